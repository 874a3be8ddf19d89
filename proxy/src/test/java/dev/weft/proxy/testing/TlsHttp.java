package dev.weft.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A JDK TLS client for tests: one HTTP/1.1 request on a new TLS connection, with an optional client
 * certificate and ALPN, returning the status, the body and the server's certificate.
 */
public final class TlsHttp {
  private TlsHttp() {}

  /** The answer and the certificate the server presented. */
  public record Result(int status, String body, X509Certificate serverCert) {}

  /**
   * @param client the client certificate, or null for none
   * @param trust the root to verify the server with, or null to accept any server
   */
  public static Result get(
      int port, TestPki.Workload client, TestPki.Ca trust, List<String> alpn, String path)
      throws IOException {
    return get(context(client, trust), port, alpn, path);
  }

  /**
   * A client context (its session cache lets a later connection resume the session).
   *
   * @param client the client certificate, or null for none
   * @param trust the root to verify the server with, or null to accept any server
   */
  public static SSLContext context(TestPki.Workload client, TestPki.Ca trust) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      KeyManagerFactory kmf = null;
      if (client != null) {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("k", client.key(), new char[0], new X509Certificate[] {client.cert()});
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
      }
      TrustManager[] tms;
      if (trust != null) {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("root", trust.cert());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        tms = tmf.getTrustManagers();
      } else {
        tms = new TrustManager[] {new TrustAll()};
      }
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tms, null);
      return ctx;
    } catch (java.security.GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One request on a new connection made with {@code ctx}. */
  public static Result get(SSLContext ctx, int port, List<String> alpn, String path)
      throws IOException {
    {
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(20_000);
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(alpn.toArray(new String[0]));
        // The SAN is a SPIFFE URI, not a host name: no host name check (as Envoy).
        p.setEndpointIdentificationAlgorithm(null);
        s.setSSLParameters(p);
        s.startHandshake();
        X509Certificate server = (X509Certificate) s.getSession().getPeerCertificates()[0];
        s.getOutputStream()
            .write(
                ("GET " + path + " HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        String text = all.toString(StandardCharsets.UTF_8);
        if (!text.startsWith("HTTP/1.1 ")) {
          throw new IOException("no HTTP response: '" + text + "'");
        }
        int status = Integer.parseInt(text.substring(9, 12));
        int body = text.indexOf("\r\n\r\n");
        return new Result(status, body < 0 ? "" : text.substring(body + 4), server);
      }
    }
  }

  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
