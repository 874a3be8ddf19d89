package dev.weft.proxy.net;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;

/**
 * Works around a Netty 4.2 epoll defect (seen in 4.2.18 and 4.2.20): when a channel's interest set
 * becomes empty (no {@code EPOLLIN}: autoRead off or input shut down; no {@code EPOLLRDHUP}: input
 * shut down; no {@code EPOLLOUT}: its outbound buffer drained), Netty's registration deletes the fd
 * from epoll ({@code EPOLL_CTL_DEL}) but still believes it is added, so the next interest ({@code
 * EPOLLOUT} for a write the socket could not take at once) is an {@code EPOLL_CTL_MOD} that fails
 * with {@code ENOENT}: the write fails, Netty shuts the output down and the connection loses the
 * rest of its bytes. A half-closed TCP proxy connection with a slow reader hits it every time (the
 * client half-closes, the echo keeps coming back).
 *
 * <p>Here an empty interest set is submitted as {@code EPOLLET} alone instead: the fd stays
 * registered (a later {@code EPOLL_CTL_MOD} works) and, being edge-triggered with no events, it
 * cannot wake the loop repeatedly on a hang-up or error (what Netty's delete avoids, netty#16683).
 * Everything else is passed to Netty's handler unchanged.
 */
final class EpollKeepRegistered implements IoHandlerFactory {
  private static final EpollIoOps QUIET = EpollIoOps.EPOLLET;

  private final IoHandlerFactory delegate;

  EpollKeepRegistered(IoHandlerFactory delegate) {
    this.delegate = delegate;
  }

  /** The interest set to submit instead of {@code ops}. */
  static IoOps keep(IoOps ops) {
    return ops instanceof EpollIoOps e && e.value() == EpollIoOps.NONE.value() ? QUIET : ops;
  }

  @Override
  public IoHandler newHandler(io.netty.util.concurrent.ThreadAwareExecutor executor) {
    IoHandler h = delegate.newHandler(executor);
    return new IoHandler() {
      @Override
      public void initialize() {
        h.initialize();
      }

      @Override
      public int run(IoHandlerContext context) {
        return h.run(context);
      }

      @Override
      public void prepareToDestroy() {
        h.prepareToDestroy();
      }

      @Override
      public void destroy() {
        h.destroy();
      }

      @Override
      public IoRegistration register(IoHandle handle) throws Exception {
        IoRegistration r = h.register(handle);
        return new IoRegistration() {
          @Override
          public <T> T attachment() {
            return r.attachment();
          }

          @Override
          public long submit(IoOps ops) {
            return r.submit(keep(ops));
          }

          @Override
          public boolean isValid() {
            return r.isValid();
          }

          @Override
          public boolean cancel() {
            return r.cancel();
          }
        };
      }

      @Override
      public void wakeup() {
        h.wakeup();
      }

      @Override
      public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return h.isCompatible(handleType);
      }
    };
  }

  @Override
  public boolean isChangingThreadSupported() {
    return delegate.isChangingThreadSupported();
  }
}
