package dev.weft.controlplane.ca;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM encoding and decoding of certificates and private keys, and writing them with modes. */
final class Pem {
  private Pem() {}

  static String encode(Object certOrKey) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      if (certOrKey instanceof PrivateKey k) {
        // PKCS#8 as the JDK encodes it (the curve in the algorithm identifier); BouncyCastle's
        // SEC1 conversion of a JDK 25 EC key drops the curve.
        w.writeObject(new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", k.getEncoded()));
        w.flush();
        return out.toString();
      }
      w.writeObject(certOrKey);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  static String encode(List<X509Certificate> certs) {
    StringBuilder sb = new StringBuilder();
    for (X509Certificate c : certs) {
      sb.append(encode(c));
    }
    return sb.toString();
  }

  /** Every certificate in {@code pem}, in order; other PEM objects are an error. */
  static List<X509Certificate> certificates(String pem, String what) throws CaException {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (!(o instanceof X509CertificateHolder h)) {
          throw new CaException(what + ": expected only CERTIFICATE blocks");
        }
        out.add(new JcaX509CertificateConverter().getCertificate(h));
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new CaException(what + ": not a PEM certificate: " + e.getMessage(), e);
    }
    return out;
  }

  /** The one private key in {@code pem} (PKCS#8, SEC1 EC or PKCS#1 RSA). */
  static PrivateKey privateKey(String pem, String what) throws CaException {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        return conv.getPrivateKey(kp.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      // Never echo the content: it may be key material.
      throw new CaException(what + ": no unencrypted private key found");
    } catch (IOException | RuntimeException e) {
      throw new CaException(what + ": not a PEM private key", e);
    }
  }

  /** Writes {@code text} atomically; {@code secret} files get mode 0600 from the start. */
  static void write(Path file, String text, boolean secret) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (secret) {
      try {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(tmp);
      }
    }
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
