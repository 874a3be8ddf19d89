package dev.weft.cli.run;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A Netty WebSocket server on {@code /ws} answering each text message with "echo: " + it. */
final class WebSocketEcho implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private WebSocketEcho(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  static WebSocketEcho start(InetSocketAddress address) throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Channel ch =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel c) {
                    c.pipeline()
                        .addLast(
                            new HttpServerCodec(),
                            new HttpObjectAggregator(65536),
                            new WebSocketServerProtocolHandler("/ws"),
                            new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                              @Override
                              protected void channelRead0(
                                  ChannelHandlerContext ctx, TextWebSocketFrame f) {
                                ctx.writeAndFlush(new TextWebSocketFrame("echo: " + f.text()));
                              }
                            });
                  }
                })
            .bind(address)
            .sync()
            .channel();
    return new WebSocketEcho(group, ch);
  }

  @Override
  public void close() throws InterruptedException {
    channel.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
