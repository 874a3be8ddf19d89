package dev.weft.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on loopback between proxies and the control plane's xDS port, with a gate: while the
 * gate is closed, new connections are accepted and held (the proxy's gRPC client waits for the
 * server's HTTP/2 settings, its stream pending); when it opens, held and new connections are piped
 * to the control plane. A broken side closes the other, so when the control plane dies the proxies
 * see their streams fail, as they would without the relay.
 *
 * <p>Giving each group of proxies (the gateway, the sidecars) its own relay lets a test decide who
 * reaches a restarted control plane first, deterministically, without relying on backoff timing.
 */
final class XdsRelay implements AutoCloseable {
  private final ServerSocket server;
  private final InetSocketAddress upstream;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final List<Socket> held = new ArrayList<>(); // guarded by this
  private boolean open = true; // guarded by this
  private volatile boolean closed;

  private XdsRelay(ServerSocket server, InetSocketAddress upstream) {
    this.server = server;
    this.upstream = upstream;
  }

  /** Starts a relay on 127.0.0.1 (a free port) to {@code upstream}; its gate is open. */
  static XdsRelay start(InetSocketAddress upstream) throws IOException {
    ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    XdsRelay relay = new XdsRelay(s, upstream);
    Thread.ofVirtual().name("xds-relay-accept-" + s.getLocalPort()).start(relay::acceptLoop);
    return relay;
  }

  /** The port proxies connect to. */
  int port() {
    return server.getLocalPort();
  }

  /** From now on, new connections wait (established ones carry on until they break). */
  synchronized void closeGate() {
    open = false;
  }

  /** Lets held and new connections through to the control plane. */
  void openGate() {
    List<Socket> waiting;
    synchronized (this) {
      open = true;
      waiting = List.copyOf(held);
      held.clear();
    }
    waiting.forEach(this::admit);
  }

  /** How many connections are waiting at the closed gate. */
  synchronized int waiting() {
    return held.size();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      sockets.add(client);
      synchronized (this) {
        if (!open) {
          held.add(client);
          continue;
        }
      }
      admit(client);
    }
  }

  private void admit(Socket client) {
    Thread.ofVirtual()
        .start(
            () -> {
              Socket up = new Socket();
              sockets.add(up);
              try {
                up.connect(upstream, 5_000);
              } catch (IOException e) {
                closeBoth(client, up);
                return;
              }
              Thread.ofVirtual().start(() -> pipe(client, up));
              pipe(up, client);
            });
  }

  private void pipe(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      byte[] buf = new byte[16 << 10];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side broke: close both below
    } finally {
      closeBoth(from, to);
    }
  }

  private void closeBoth(Socket a, Socket b) {
    for (Socket s : List.of(a, b)) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
      sockets.remove(s);
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    for (Socket s : List.copyOf(sockets)) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }
}
