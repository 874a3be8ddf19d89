package dev.weft.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class AccessLogFormatterTest {
  private static AccessLogEntry at(long startMillis, InetSocketAddress remote) {
    return AccessLogEntry.builder()
        .startMillis(startMillis)
        .method("GET")
        .path("/")
        .protocol("HTTP/1.1")
        .code(200)
        .details("via_upstream")
        .durationMillis(1)
        .authority("h")
        .downstreamRemote(remote)
        .build();
  }

  private static String line(AccessLogFormatter f, AccessLogEntry e) {
    StringBuilder sb = new StringBuilder();
    f.append(e, sb);
    return sb.toString();
  }

  @Test
  void reusedSecondAndAddressTextMatchAFreshFormat() {
    AccessLogFormatter f = new AccessLogFormatter();
    InetSocketAddress a = new InetSocketAddress("10.0.0.7", 41000);
    InetSocketAddress b = new InetSocketAddress("10.0.0.8", 41001);
    long t = 1606339578000L; // 2020-11-25T21:26:18.000Z
    long[] starts = {t + 5, t + 45, t + 999, t + 1000, t + 1007, t - 1};
    for (long start : starts) {
      for (InetSocketAddress remote : new InetSocketAddress[] {a, b, a}) {
        AccessLogEntry e = at(start, remote);
        assertThat(line(f, e)).isEqualTo(e.format());
      }
    }
    assertThat(line(f, at(t + 5, a)))
        .startsWith("[2020-11-25T21:26:18.005Z] \"GET / HTTP/1.1\" 200 - via_upstream")
        .contains(" 1 - \"-\"")
        .endsWith(" - - 10.0.0.7:41000 - -");
    assertThat(line(f, at(t + 1000, b))).startsWith("[2020-11-25T21:26:19.000Z]");
    assertThat(line(f, at(t - 1, b))).startsWith("[2020-11-25T21:26:17.999Z]");
  }
}
