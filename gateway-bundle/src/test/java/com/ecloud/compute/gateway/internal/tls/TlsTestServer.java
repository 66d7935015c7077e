package com.ecloud.compute.gateway.internal.tls;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * A Netty server on 127.0.0.1 that puts the handler from a tls factory first, as ProxyServer does, and then
 * answers "GET" with a tiny HTTP response and echoes anything else. It records, per handshake, the SNI name
 * that SniHandler.hostname() gives afterwards (what the proxy reads).
 */
final class TlsTestServer implements AutoCloseable {

    private static final byte[] HTTP_RESPONSE =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
                    .getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel serverChannel;
    private final BlockingQueue<Optional<String>> serverNames = new LinkedBlockingQueue<>();

    TlsTestServer(Supplier<ChannelHandler> tls) throws InterruptedException {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        ChannelHandler tlsHandler = tls.get();
                        channel.pipeline().addLast(tlsHandler, new ReplyHandler(tlsHandler));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The SNI name of the next completed handshake; empty when the client sent none. */
    Optional<String> awaitServerName() throws InterruptedException {
        Optional<String> name = serverNames.poll(10, TimeUnit.SECONDS);
        if (name == null) {
            throw new AssertionError("no TLS handshake completed on the server");
        }
        return name;
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class ReplyHandler extends ChannelInboundHandlerAdapter {
        private final ChannelHandler tlsHandler;

        ReplyHandler(ChannelHandler tlsHandler) {
            this.tlsHandler = tlsHandler;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent completion && completion.isSuccess()) {
                String name = tlsHandler instanceof SniHandler sni ? sni.hostname() : null;
                serverNames.add(Optional.ofNullable(name));
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            ByteBuf data = (ByteBuf) message;
            boolean httpGet = data.toString(StandardCharsets.US_ASCII).startsWith("GET ");
            if (httpGet) {
                data.release();
                ctx.writeAndFlush(Unpooled.wrappedBuffer(HTTP_RESPONSE)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(data);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // failed handshakes are what some tests expect
        }
    }
}
