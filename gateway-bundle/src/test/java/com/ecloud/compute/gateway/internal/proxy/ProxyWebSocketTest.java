package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real WebSocket echo (Netty backend, JDK client) through the proxy. */
class ProxyWebSocketTest {
    private EventLoopGroup backendLoops;
    private Channel backendChannel;
    private ProxyFixture proxy;

    @BeforeEach
    void start() throws Exception {
        backendLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        backendChannel = new ServerBootstrap().group(backendLoops).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws", null, false, 1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                        // not the WebSocket path: a plain 404
                                        DefaultFullHttpResponse notFound = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.NOT_FOUND, Unpooled.copiedBuffer("no socket here", StandardCharsets.UTF_8));
                                        notFound.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, notFound.content().readableBytes());
                                        ctx.writeAndFlush(notFound);
                                    }
                                },
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
                                        if (frame instanceof TextWebSocketFrame text) {
                                            ctx.writeAndFlush(new TextWebSocketFrame("echo: " + text.text()));
                                        } else if (frame instanceof BinaryWebSocketFrame binary) {
                                            ctx.writeAndFlush(new BinaryWebSocketFrame(binary.content().retain()));
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) backendChannel.localAddress()).getPort();
        proxy = new ProxyFixture((h, p, t) -> new Route.Backend("127.0.0.1", port));
    }

    @AfterEach
    void stop() {
        proxy.close();
        backendChannel.close().awaitUninterruptibly();
        backendLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Test
    void webSocketEchoPassesThroughTheProxy() throws Exception {
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<ByteBuffer> binaries = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();
            private ByteBuffer binary = ByteBuffer.allocate(0);

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    texts.add(text.toString());
                    text.setLength(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                ByteBuffer joined = ByteBuffer.allocate(binary.remaining() + data.remaining());
                joined.put(binary).put(data).flip();
                binary = joined;
                if (last) {
                    binaries.add(binary);
                    binary = ByteBuffer.allocate(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                closed.complete(status);
                return null;
            }
        };
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/ws"), listener).get(10, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: hello", texts.poll(5, TimeUnit.SECONDS));
        ws.sendText("again", true).get(5, TimeUnit.SECONDS);
        assertEquals("echo: again", texts.poll(5, TimeUnit.SECONDS));
        byte[] big = new byte[512 * 1024];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(5, TimeUnit.SECONDS);
        ByteBuffer echoed = binaries.poll(10, TimeUnit.SECONDS);
        assertEquals(ByteBuffer.wrap(big), echoed, "512 KiB binary frame relayed both ways intact");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertEquals(WebSocket.NORMAL_CLOSURE, closed.get(5, TimeUnit.SECONDS));
    }

    @Test
    void nonSwitchingAnswerToAnUpgradeIsANormalResponse() throws Exception {
        CompletionException failed = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                () -> HttpClient.newHttpClient().newWebSocketBuilder()
                        .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/elsewhere"), new WebSocket.Listener() { })
                        .join());
        WebSocketHandshakeException handshake = assertInstanceOf(WebSocketHandshakeException.class, failed.getCause());
        assertEquals(404, handshake.getResponse().statusCode());
        // the same connection kind still serves plain requests after such an answer
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("GET /ws-not HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(404, response.status());
            assertEquals("no socket here", response.text());
            client.send("GET /again HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals(404, client.read().status());
        }
    }
}
