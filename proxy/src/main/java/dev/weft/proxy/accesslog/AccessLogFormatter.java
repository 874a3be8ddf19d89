package dev.weft.proxy.accesslog;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;

/**
 * Appends {@link AccessLogEntry} lines in Istio's default text format to a caller's {@link
 * StringBuilder}. It keeps what repeats from line to line (the start time up to the second, the
 * text of socket addresses), so that a busy log formats without a date or address allocation per
 * line. Not thread safe: one per writer thread.
 */
final class AccessLogFormatter {
  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final int MAX_ADDRESSES = 4096;

  private long cachedSecond = Long.MIN_VALUE;
  private String cachedSecondText;
  private final HashMap<SocketAddress, String> addresses = new HashMap<>();

  /** Appends {@code e}'s line (without the line break) to {@code sb}. */
  void append(AccessLogEntry e, StringBuilder sb) {
    sb.append('[');
    appendStart(e.startMillis(), sb);
    sb.append("] \"");
    sb.append(dash(e.method())).append(' ').append(dash(e.path())).append(' ');
    sb.append(dash(e.protocol()));
    sb.append("\" ").append(e.code()).append(' ').append(dash(e.flags())).append(' ');
    sb.append(dash(e.details())).append(" - \"");
    sb.append(dash(e.upstreamTransportFailureReason())).append("\" ");
    sb.append(e.bytesReceived()).append(' ').append(e.bytesSent()).append(' ');
    sb.append(e.durationMillis()).append(' ');
    if (e.upstreamServiceTime() < 0) {
      sb.append('-');
    } else {
      sb.append(e.upstreamServiceTime());
    }
    sb.append(" \"").append(dash(e.forwardedFor())).append("\" \"").append(dash(e.userAgent()));
    sb.append("\" \"").append(dash(e.requestId())).append("\" \"").append(dash(e.authority()));
    sb.append("\" \"").append(dash(e.upstreamHost())).append("\" ");
    sb.append(dash(e.upstreamCluster())).append(' ');
    sb.append(address(e.upstreamLocal())).append(' ').append(address(e.downstreamLocal()));
    sb.append(' ').append(address(e.downstreamRemote())).append(' ');
    sb.append(dash(e.requestedServerName())).append(' ').append(dash(e.routeName()));
  }

  /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ} in UTC; the text up to the second is reused. */
  void appendStart(long millis, StringBuilder sb) {
    long second = Math.floorDiv(millis, 1000L);
    if (second != cachedSecond) {
      cachedSecondText = SECOND.format(Instant.ofEpochSecond(second));
      cachedSecond = second;
    }
    int ms = (int) Math.floorMod(millis, 1000L);
    sb.append(cachedSecondText).append('.');
    if (ms < 100) {
      sb.append('0');
    }
    if (ms < 10) {
      sb.append('0');
    }
    sb.append(ms).append('Z');
  }

  /** {@code ip:port}, as Envoy prints an address; the text of recent addresses is kept. */
  String address(SocketAddress a) {
    if (a == null) {
      return "-";
    }
    String text = addresses.get(a);
    if (text == null) {
      if (a instanceof InetSocketAddress i && i.getAddress() != null) {
        text = i.getAddress().getHostAddress() + ":" + i.getPort();
      } else {
        text = a.toString();
      }
      if (addresses.size() >= MAX_ADDRESSES) {
        addresses.clear();
      }
      addresses.put(a, text);
    }
    return text;
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
