package dev.weft.proxy.upstream;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Name resolution for upstream connections that never blocks an event loop: a host name (an
 * endpoint of a STRICT_DNS or LOGICAL_DNS cluster, or an ORIGINAL_DST destination) is resolved by
 * the system resolver ({@link InetAddress#getAllByName}, which reads {@code /etc/hosts} and the
 * system's DNS configuration) on a virtual thread, and the connect continues on the event loop when
 * the answer arrives (Netty completes the promise there). IP literals are answered at once.
 *
 * <p>Used as the {@link io.netty.bootstrap.Bootstrap#resolver} of every upstream connect: it
 * replaces Netty's default resolver, which calls {@code InetAddress.getByName} on the event loop. A
 * name is resolved at each new connection (Envoy's LOGICAL_DNS behaviour; pooled connections are
 * reused), the first IPv4 address first.
 */
public final class OffLoopResolver extends InetNameResolver {
  /** The group to give a {@code Bootstrap}. */
  public static final AddressResolverGroup<InetSocketAddress> GROUP =
      new AddressResolverGroup<>() {
        @Override
        protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
          return new OffLoopResolver(executor).asAddressResolver();
        }
      };

  private static final Executor BLOCKING =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("weft-dns-", 0).factory());

  private OffLoopResolver(EventExecutor executor) {
    super(executor);
  }

  @Override
  protected void doResolve(String host, Promise<InetAddress> promise) {
    byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
    if (literal != null) {
      try {
        promise.setSuccess(InetAddress.getByAddress(host, literal));
      } catch (UnknownHostException e) {
        promise.setFailure(e);
      }
      return;
    }
    BLOCKING.execute(
        () -> {
          try {
            promise.trySuccess(preferIpv4(InetAddress.getAllByName(host)).get(0));
          } catch (UnknownHostException | RuntimeException e) {
            promise.tryFailure(e);
          }
        });
  }

  @Override
  protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
    byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
    if (literal != null) {
      try {
        promise.setSuccess(List.of(InetAddress.getByAddress(host, literal)));
      } catch (UnknownHostException e) {
        promise.setFailure(e);
      }
      return;
    }
    BLOCKING.execute(
        () -> {
          try {
            promise.trySuccess(preferIpv4(InetAddress.getAllByName(host)));
          } catch (UnknownHostException | RuntimeException e) {
            promise.tryFailure(e);
          }
        });
  }

  /** The addresses with IPv4 first (Istio generates {@code dns_lookup_family: V4_ONLY}). */
  private static List<InetAddress> preferIpv4(InetAddress[] all) {
    InetAddress[] sorted = all.clone();
    Arrays.sort(
        sorted, (a, b) -> Boolean.compare(a.getAddress().length > 4, b.getAddress().length > 4));
    return List.of(sorted);
  }
}
