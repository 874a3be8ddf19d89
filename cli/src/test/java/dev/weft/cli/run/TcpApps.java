package dev.weft.cli.run;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Raw TCP for the mesh tests: an app on a workload's address that runs one {@link Conversation} per
 * connection (each on a virtual thread), and a client's whole exchange with a half-close.
 */
public final class TcpApps {
  private TcpApps() {}

  /** What an app does with one connection; the connection is closed after it returns. */
  public interface Conversation {
    void run(Socket s) throws IOException;
  }

  /**
   * Serves each connection to {@code address} with {@code c} until the returned socket is closed
   * (the caller's to close).
   */
  public static ServerSocket serve(InetSocketAddress address, Conversation c) throws IOException {
    ServerSocket ss = new ServerSocket();
    ss.bind(address);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!ss.isClosed()) {
                try {
                  Socket s = ss.accept();
                  Thread.ofVirtual()
                      .start(
                          () -> {
                            try (s) {
                              c.run(s);
                            } catch (IOException e) {
                              // the client went away
                            }
                          });
                } catch (IOException e) {
                  return;
                }
              }
            });
    return ss;
  }

  /**
   * A TCP echo app: each connection is echoed until the client half-closes, then half-closed; the
   * caller closes the returned socket.
   */
  public static ServerSocket echo(InetSocketAddress address) throws IOException {
    return serve(
        address,
        s -> {
          s.getInputStream().transferTo(s.getOutputStream());
          s.shutdownOutput();
        });
  }

  /**
   * Sends {@code data} on {@code s} (from another thread, so that a peer that answers while it
   * reads never blocks both), half-closes, and reads until the peer closes.
   */
  public static byte[] exchange(Socket s, byte[] data) throws IOException {
    Thread writer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    s.getOutputStream().write(data);
                    s.shutdownOutput();
                  } catch (IOException e) {
                    // the read below fails too
                  }
                });
    byte[] got = s.getInputStream().readAllBytes();
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return got;
  }
}
