package dev.weft.proxy.identity;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.util.Base64;

/**
 * A workload's certificate signing request, written with the JDK alone (no BouncyCastle on the
 * proxy's start path: its provider tables cost ~200 ms of CPU at a sidecar's start, issue #10): a
 * PKCS #10 request (RFC 2986) with an empty subject and one critical subjectAltName extension
 * holding the SPIFFE URI (RFC 5280 §4.2.1.6: the SAN is critical when the subject is empty), signed
 * with ECDSA over SHA-256 (RFC 5758 §3.2), as Istio's agent sends to istiod's CA. DER by hand
 * (ITU-T X.690); every length fits in the definite long form.
 */
final class Pkcs10 {
  // OIDs, DER-encoded (tag 06, length, value)
  private static final byte[] EXTENSION_REQUEST = { // 1.2.840.113549.1.9.14 (PKCS #9)
    0x06, 0x09, 0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7, 0x0D, 0x01, 0x09, 0x0E
  };
  private static final byte[] SUBJECT_ALT_NAME = {0x06, 0x03, 0x55, 0x1D, 0x11}; // 2.5.29.17
  private static final byte[] ECDSA_WITH_SHA256 = { // 1.2.840.10045.4.3.2
    0x06, 0x08, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x04, 0x03, 0x02
  };

  private Pkcs10() {}

  /** The DER of a request for {@code uri} (the SAN), signed with {@code key}'s EC private key. */
  static byte[] der(KeyPair key, String uri) throws GeneralSecurityException {
    byte[] san =
        tlv(0x30, tlv(0x86, uri.getBytes(StandardCharsets.US_ASCII))); // GeneralNames { [6] URI }
    byte[] extension =
        tlv(0x30, SUBJECT_ALT_NAME, new byte[] {0x01, 0x01, (byte) 0xFF}, tlv(0x04, san));
    byte[] attribute = tlv(0x30, EXTENSION_REQUEST, tlv(0x31, tlv(0x30, extension)));
    byte[] info =
        tlv(
            0x30,
            new byte[] {0x02, 0x01, 0x00}, // version v1(0)
            new byte[] {0x30, 0x00}, // subject: the empty Name
            key.getPublic().getEncoded(), // SubjectPublicKeyInfo (X.509 DER)
            tlv(0xA0, attribute)); // [0] IMPLICIT SET OF Attribute
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(key.getPrivate());
    s.update(info);
    byte[] sig = s.sign(); // DER Ecdsa-Sig-Value, as X.509 carries it
    byte[] bits = new byte[sig.length + 1]; // BIT STRING: 0 unused bits first
    System.arraycopy(sig, 0, bits, 1, sig.length);
    return tlv(0x30, info, tlv(0x30, ECDSA_WITH_SHA256), tlv(0x03, bits));
  }

  /** {@code der} as PEM (RFC 7468): base64 in 64-character lines between the type's labels. */
  static String pem(String type, byte[] der) {
    String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
  }

  /** One DER element: {@code tag}, the definite length of the parts, the parts. */
  private static byte[] tlv(int tag, byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 6);
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
