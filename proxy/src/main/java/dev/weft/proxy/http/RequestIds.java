package dev.weft.proxy.http;

import dev.weft.proxy.net.HeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** Envoy's {@code x-request-id}: kept when the client sent one, else a fresh random UUID. */
final class RequestIds {
  static final AsciiString X_REQUEST_ID = HeaderNames.X_REQUEST_ID;

  private RequestIds() {}

  /** The request's id, generating and setting one when absent. */
  static String ensure(HttpHeaders h) {
    String id = h.get(X_REQUEST_ID);
    if (id == null) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      id =
          new UUID((r.nextLong() & ~0xF000L) | 0x4000L, (r.nextLong() & ~(3L << 62)) | (1L << 63))
              .toString();
      h.set(X_REQUEST_ID, id);
    }
    return id;
  }
}
