package com.ecloud.compute.gateway.internal.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SniHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: decodes requests, checks them, forwards each to its backend and streams the response
 * back. Requests are handled one after the other (pipelined ones wait, unread, until the previous response is
 * complete). Everything runs on the client channel's event loop, backend channels included.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);
    /** A request sent on a reused backend connection is kept this far so it can be replayed on a fresh one. */
    private static final int REPLAY_LIMIT_BYTES = 64 * 1024;
    /** After a refusal keep reading (and discarding) this long so the client sees the answer rather than a reset. */
    private static final long LINGER_MILLIS = 2000;
    private static final int BACKEND_MAX_HEADER_BYTES = 64 * 1024;
    private static final int BODY_CHUNK_BYTES = 64 * 1024;

    private final ProxyCore core;
    private final int externalPort;
    private final boolean tls;
    private final SniHandler sni;
    private final ClientResponseEncoder encoder;
    private final ArrayDeque<HttpObject> waiting = new ArrayDeque<>();
    private Channel client;
    private Exchange exchange;
    private boolean closing;
    private boolean relaying;
    private boolean pausedForPipeline;
    private boolean pausedForBackend;
    private boolean draining;
    private String clientIp;
    private final long idleNanos;
    /** Last time data moved in either direction (read from the client, or from its backend for it). */
    private long lastActivityNanos;
    /** The one pending deadline check of this connection (idle or response timeout), and when it runs. */
    private ScheduledFuture<?> deadlineCheck;
    private long deadlineCheckAtNanos;

    ClientConnection(ProxyCore core, int externalPort, boolean tls, SniHandler sni, ClientResponseEncoder encoder) {
        this.core = core;
        this.externalPort = externalPort;
        this.tls = tls;
        this.sni = sni;
        this.encoder = encoder;
        this.idleNanos = core.settings().idleTimeout().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.client = ctx.channel();
        lastActivityNanos = System.nanoTime();
        scheduleDeadlineCheck(lastActivityNanos + idleNanos);
    }

    /**
     * Idle and response timeouts share one scheduled check per connection, moved only when a deadline comes
     * earlier than the planned check: a timer per request would cost a schedule and a cancel every time.
     */
    private void scheduleDeadlineCheck(long atNanos) {
        if (deadlineCheck != null) {
            if (atNanos - deadlineCheckAtNanos >= 0) return;
            deadlineCheck.cancel(false);
        }
        deadlineCheckAtNanos = atNanos;
        deadlineCheck = client.eventLoop().schedule(this::checkDeadlines,
                Math.max(0, atNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void checkDeadlines() {
        deadlineCheck = null;
        if (!client.isOpen()) return;
        long now = System.nanoTime();
        Exchange current = exchange;
        if (current != null && current.awaitingResponse && now - current.responseDeadlineNanos >= 0) {
            current.responseTimedOut();
            if (!client.isOpen()) return;
        }
        if (now - (lastActivityNanos + idleNanos) >= 0) {
            current = exchange;
            // while waiting for a response head the response timeout is in charge
            if (current == null || relaying || current.responseStarted || !current.requestComplete) {
                client.close();
                return;
            }
            lastActivityNanos = now;
        }
        long next = lastActivityNanos + idleNanos;
        current = exchange;
        if (current != null && current.awaitingResponse && current.responseDeadlineNanos - next < 0) {
            next = current.responseDeadlineNanos;
        }
        scheduleDeadlineCheck(next);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (relaying) {
            if (msg instanceof ByteBuf bytes && exchange != null) {
                exchange.relayFromClient(bytes);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } else if (!(msg instanceof HttpObject object)) {
            ReferenceCountUtil.release(msg);
        } else if (!waiting.isEmpty() || (exchange != null && exchange.requestComplete)) {
            // a pipelined request: it waits until the current response is complete, and we stop reading
            waiting.add(object);
            pausedForPipeline = true;
            updateReading();
        } else {
            handle(object);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lastActivityNanos = System.nanoTime();
        Exchange current = exchange;
        if (current != null && current.connection != null) current.connection.channel().flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        lastActivityNanos = System.nanoTime(); // the client took data
        Exchange current = exchange;
        if (current != null && current.connection != null) {
            // the backend's data waits in its socket while the client cannot take more
            current.connection.channel().config().setAutoRead(client.isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        releaseWaiting();
        if (exchange != null) {
            exchange.abort();
            exchange = null;
        }
        if (deadlineCheck != null) deadlineCheck.cancel(false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("client connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }

    private void handle(HttpObject object) {
        if (object instanceof HttpRequest request) {
            startExchange(request);
            if (!(object instanceof HttpContent)) return; // a FullHttpRequest comes from a decoder failure
        }
        HttpContent content = (HttpContent) object;
        if (exchange == null || closing) {
            content.release();
        } else {
            exchange.fromClient(content);
        }
    }

    private void startExchange(HttpRequest request) {
        boolean head = HttpMethod.HEAD.equals(request.method());
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            Throwable cause = decoded.cause();
            if (cause instanceof TooLongHttpHeaderException) {
                refuseAndClose(431, "the request header fields are larger than " + core.settings().maxHeaderBytes() + " bytes", false);
            } else if (cause instanceof TooLongHttpLineException) {
                refuseAndClose(414, "the request line is longer than " + core.settings().maxHeaderBytes() + " bytes", false);
            } else if (cause instanceof ClientRequestDecoder.RefusedRequestException) {
                refuseAndClose(400, cause.getMessage(), false);
            } else {
                refuseAndClose(400, "malformed request line or header (" + cause.getMessage() + ")", false);
            }
            return;
        }
        String problem = RequestRules.framingProblem(request);
        if (problem != null) {
            refuseAndClose(400, problem, head);
            return;
        }
        String host = RequestRules.hostName(request.headers().get(HttpHeaderNames.HOST));
        if (host == null) {
            refuseAndClose(400, "the Host header is malformed", head);
            return;
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            refuseAndClose(405, "CONNECT is not supported", false);
            return;
        }
        String targetProblem = RequestRules.targetProblem(request, host);
        if (targetProblem != null) {
            refuseAndClose(400, targetProblem, head);
            return;
        }
        long declaredLength = RequestRules.declaredLength(request);
        if (declaredLength > core.settings().maxBodyBytes()) {
            refuseAndClose(413, "the request body is larger than " + core.settings().maxBodyBytes() + " bytes", head);
            return;
        }
        String serverName = sni == null ? null : sni.hostname();
        if (serverName != null && !normalizedName(serverName).equals(host)) {
            refuseAndClose(421, "host does not match the TLS server name", head);
            return;
        }
        Route route;
        try {
            route = core.resolver().resolve(host, externalPort, tls);
        } catch (RuntimeException e) {
            LOG.warn("route resolver failed for {}:{}", host, externalPort, e);
            route = null;
        }
        exchange = new Exchange(request, declaredLength);
        if (route instanceof Route.Backend backend) {
            exchange.forwardTo(backend);
        } else if (route instanceof Route.Refusal refusal) {
            exchange.answer(refusal.status(), refusal.reason());
        } else {
            exchange.answer(500, "the gateway could not route the request");
        }
    }

    /** Answers with a gateway response and closes (after a short linger) the client connection. */
    private void refuseAndClose(int status, String reason, boolean head) {
        closing = true;
        releaseWaiting();
        boolean responseStarted = exchange != null && exchange.responseStarted;
        if (exchange != null) {
            exchange.abort();
            exchange = null;
        }
        updateReading(); // keep reading and discarding what the client still sends
        if (responseStarted) {
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        encoder.answeringHead(head);
        client.writeAndFlush(GatewayResponses.text(client.alloc(), status, reason, true, false))
                .addListener((ChannelFutureListener) this::lingerThenClose);
    }

    private void lingerThenClose(ChannelFuture written) {
        if (!written.isSuccess() || !client.isActive()) {
            client.close();
            return;
        }
        if (sni == null && !tls && client instanceof SocketChannel socket) {
            socket.shutdownOutput(); // the client sees the end of the answer at once
        }
        client.eventLoop().schedule(() -> client.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void closeAfterFlush() {
        closing = true;
        releaseWaiting();
        updateReading();
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void drainWaiting() {
        if (draining) return;
        draining = true;
        try {
            while (!closing && !waiting.isEmpty() && (exchange == null || !exchange.requestComplete)) {
                handle(waiting.poll());
            }
        } finally {
            draining = false;
        }
        // queued parts written to the backend get no channelReadComplete of their own
        if (exchange != null && exchange.connection != null) exchange.connection.channel().flush();
        if (waiting.isEmpty() && pausedForPipeline) {
            pausedForPipeline = false;
            updateReading();
        }
    }

    private void releaseWaiting() {
        HttpObject object;
        while ((object = waiting.poll()) != null) ReferenceCountUtil.release(object);
    }

    private void pauseForBackend(boolean paused) {
        if (pausedForBackend != paused) {
            pausedForBackend = paused;
            updateReading();
        }
    }

    private void updateReading() {
        boolean read = closing || (!pausedForPipeline && !pausedForBackend);
        if (client.config().isAutoRead() != read) client.config().setAutoRead(read);
    }

    private String clientIp() {
        if (clientIp == null) clientIp = ((InetSocketAddress) client.remoteAddress()).getAddress().getHostAddress();
        return clientIp;
    }

    private static String normalizedName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    /** One request and its response. */
    final class Exchange {
        private final HttpRequest request;
        private final long declaredLength;
        private final boolean head;
        private final boolean http10;
        private final boolean clientKeepAlive;
        private final boolean webSocket;
        /** Request parts that arrived while the backend connection was being made (small: reading pauses). */
        private final ArrayDeque<HttpObject> unsent = new ArrayDeque<>(2);
        private Route.Backend backend;
        private BackendConnection connection;
        private List<HttpObject> replay;
        private int replayBytes;
        private boolean retried;
        private long bodyBytes;
        private boolean requestComplete;
        private boolean responseStarted;
        private boolean responseComplete;
        private boolean answeredByGateway;
        private boolean interimResponse;
        private boolean upgrading;
        private boolean backendKeepAlive;
        private boolean closeClientAfter;
        private boolean awaitingResponse;
        private long responseDeadlineNanos;

        Exchange(HttpRequest request, long declaredLength) {
            this.request = request;
            this.declaredLength = declaredLength;
            this.head = HttpMethod.HEAD.equals(request.method());
            this.http10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
            this.clientKeepAlive = HttpUtil.isKeepAlive(request);
            this.webSocket = RequestRules.isWebSocketUpgrade(request);
        }

        void forwardTo(Route.Backend target) {
            backend = target;
            RequestRules.prepareForBackend(request, webSocket, clientIp(), tls, externalPort);
            BackendConnection pooled = core.pools().take(client.eventLoop(), target);
            if (pooled != null) {
                attach(pooled, true);
            } else {
                connect();
            }
        }

        private void connect() {
            BackendConnection fresh = new BackendConnection(backend, core.pools(), idleNanos);
            Bootstrap bootstrap = core.backendBootstrap().clone(client.eventLoop()).handler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel channel) {
                    channel.pipeline().addLast(
                            // lenient about bare LF line ends from backends (CGI scripts, BusyBox httpd):
                            // clients are held to the strict rules, a container's own server is not
                            new HttpClientCodec(new HttpDecoderConfig()
                                    .setMaxHeaderSize(BACKEND_MAX_HEADER_BYTES)
                                    .setMaxInitialLineLength(BACKEND_MAX_HEADER_BYTES)
                                    .setMaxChunkSize(BODY_CHUNK_BYTES)
                                    .setStrictLineParsing(false), false, false),
                            fresh);
                }
            });
            pauseForBackend(true); // hold the request body in the client's socket until we can send it
            ChannelFuture connecting = bootstrap.connect(new InetSocketAddress(backend.host(), backend.port()));
            core.openChannels().add(connecting.channel());
            connecting.addListener((ChannelFutureListener) done -> {
                if (exchange != this || closing) {
                    done.channel().close();
                } else if (done.isSuccess()) {
                    attach(fresh, false);
                } else {
                    LOG.debug("backend {} does not answer", backend, done.cause());
                    answer(502, "the container's port " + backend.port() + " does not answer");
                }
            });
        }

        private void attach(BackendConnection backendConnection, boolean reused) {
            connection = backendConnection;
            backendConnection.owner(this);
            // only a reused connection can have been closed by the backend in the meantime
            replay = reused && !retried ? new ArrayList<>() : null;
            replayBytes = 0;
            writeToBackend(request);
            HttpObject part;
            while ((part = unsent.poll()) != null) writeToBackend(part);
            Channel channel = backendConnection.channel();
            channel.flush();
            channel.config().setAutoRead(client.isWritable());
            pauseForBackend(!channel.isWritable());
        }

        private void writeToBackend(HttpObject part) {
            if (replay != null) {
                if (part instanceof HttpContent content) {
                    replayBytes += content.content().readableBytes();
                    if (replayBytes > REPLAY_LIMIT_BYTES) {
                        dropReplay();
                    } else {
                        replay.add(content.retainedDuplicate());
                    }
                } else {
                    replay.add(part);
                }
            }
            connection.channel().write(part, connection.channel().voidPromise());
            if (part instanceof LastHttpContent) startResponseTimer();
        }

        void fromClient(HttpContent content) {
            bodyBytes += content.content().readableBytes();
            if (bodyBytes > core.settings().maxBodyBytes()) {
                content.release();
                refuseAndClose(413, "the request body is larger than " + core.settings().maxBodyBytes() + " bytes", head);
                return;
            }
            boolean last = content instanceof LastHttpContent;
            if (answeredByGateway) {
                content.release();
            } else if (connection == null) {
                unsent.add(content);
            } else {
                writeToBackend(content);
                if (!connection.channel().isWritable()) pauseForBackend(true);
            }
            if (last) {
                requestComplete = true;
                if (responseComplete) finish();
            }
        }

        void relayFromClient(ByteBuf bytes) {
            if (connection == null) {
                bytes.release();
                return;
            }
            connection.channel().write(bytes, connection.channel().voidPromise());
            if (!connection.channel().isWritable()) pauseForBackend(true);
        }

        void fromBackend(Object msg) {
            if (msg instanceof HttpResponse response) {
                responseHead(response);
                if (!(msg instanceof HttpContent)) return;
            }
            HttpContent content = (HttpContent) msg;
            boolean last = content instanceof LastHttpContent;
            if (upgrading) {
                content.release();
                if (last) completeUpgrade();
            } else if (interimResponse) {
                client.write(content, client.voidPromise());
                if (last) interimResponse = false;
            } else if (!responseStarted || responseComplete || relaying || answeredByGateway) {
                content.release();
            } else {
                client.write(content, client.voidPromise());
                if (!client.isWritable()) connection.channel().config().setAutoRead(false);
                if (last) {
                    responseComplete = true;
                    if (!requestComplete) closeClientAfter = true; // the rest of the body would be a new request
                    finish();
                }
            }
        }

        private void responseHead(HttpResponse response) {
            if (response.decoderResult().isFailure()) {
                backendFailed("the container's port " + backend.port() + " sent an invalid response");
                return;
            }
            dropReplay();
            int code = response.status().code();
            if (code == 101) {
                if (webSocket && !responseStarted) {
                    startUpgrade(response);
                } else {
                    backendFailed("the container's port " + backend.port() + " switched protocols unasked");
                }
                return;
            }
            if (code < 200) { // 100 Continue, 103 Early Hints: passed on, the final response follows
                RequestRules.removeHopByHop(response.headers());
                response.setProtocolVersion(HttpVersion.HTTP_1_1);
                encoder.answeringHead(false);
                interimResponse = true;
                client.write(response);
                return;
            }
            cancelResponseTimer();
            responseStarted = true;
            backendKeepAlive = HttpUtil.isKeepAlive(response);
            boolean bodyless = head || code == 204 || code == 304;
            boolean chunked = HttpUtil.isTransferEncodingChunked(response);
            boolean delimited = bodyless || chunked || HttpUtil.isContentLengthSet(response);
            RequestRules.removeHopByHop(response.headers());
            response.setProtocolVersion(HttpVersion.HTTP_1_1);
            if (!delimited) closeClientAfter = true; // the body ends when the connection does: same for the client
            if (chunked && http10 && !bodyless) {
                response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING); // HTTP/1.0 has no chunks
                closeClientAfter = true;
            }
            if (!clientKeepAlive) closeClientAfter = true;
            if (closeClientAfter) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            encoder.answeringHead(head);
            client.write(response, client.voidPromise());
        }

        private void startUpgrade(HttpResponse response) {
            cancelResponseTimer();
            responseStarted = true;
            upgrading = true;
            response.setProtocolVersion(HttpVersion.HTTP_1_1);
            encoder.answeringHead(false);
            client.write(response);
        }

        /** After the 101 both connections carry WebSocket frames: byte relays without HTTP codecs. */
        private void completeUpgrade() {
            upgrading = false;
            relaying = true;
            ClientConnection.this.relaying = true;
            client.flush();
            // bytes the decoders still hold come out as ByteBufs on removal and go to the other side
            client.pipeline().remove(encoder);
            client.pipeline().remove(ClientRequestDecoder.class);
            connection.channel().pipeline().remove(HttpClientCodec.class);
            client.flush();
            connection.channel().flush();
        }

        void relayFromBackend(ByteBuf bytes) {
            if (!relaying) {
                bytes.release();
                return;
            }
            client.write(bytes, client.voidPromise());
            if (!client.isWritable()) connection.channel().config().setAutoRead(false);
        }

        void backendReadComplete() {
            lastActivityNanos = System.nanoTime();
            client.flush();
        }

        void backendWritabilityChanged(boolean writable) {
            if (exchange == this) pauseForBackend(!writable);
        }

        void backendClosed(BackendConnection closed) {
            if (closed != connection || exchange != this) return;
            if (relaying) {
                connection = null;
                closeAfterFlush();
                return;
            }
            if (!responseStarted && !interimResponse && replay != null && !retried) {
                retryOnFreshConnection();
                return;
            }
            connection = null;
            if (!responseStarted) {
                answer(502, "the container's port " + backend.port() + " closed the connection without answering");
            } else if (!responseComplete) {
                exchange = null;
                abort();
                closeAfterFlush(); // a cut response cannot be repaired: the client must see the connection end
            }
        }

        /** The pooled connection was closed by the backend before any answer: send the kept request again once. */
        private void retryOnFreshConnection() {
            retried = true;
            cancelResponseTimer();
            List<HttpObject> sent = replay;
            replay = null;
            connection = null;
            // the head is written again by attach(); the kept body parts go first, unsent ones after
            for (int i = sent.size() - 1; i >= 1; i--) unsent.addFirst(sent.get(i));
            connect();
        }

        private void backendFailed(String reason) {
            BackendConnection failed = connection;
            connection = null;
            if (failed != null) failed.release(false);
            if (!responseStarted) {
                answer(502, reason);
            } else {
                exchange = null;
                abort();
                closeAfterFlush();
            }
        }

        /** A response made by the gateway in place of the backend's. */
        void answer(int status, String reason) {
            boolean noBody = declaredLength <= 0 && !RequestRules.isChunked(request);
            if (!clientKeepAlive || !(requestComplete || noBody)) {
                refuseAndClose(status, reason, head);
                return;
            }
            cancelResponseTimer();
            BackendConnection used = connection;
            connection = null;
            if (used != null) used.release(false);
            releaseParts();
            answeredByGateway = true;
            responseStarted = true;
            responseComplete = true;
            encoder.answeringHead(head);
            client.writeAndFlush(GatewayResponses.text(client.alloc(), status, reason, false, http10));
            pauseForBackend(false);
            if (requestComplete) finish();
        }

        private void startResponseTimer() {
            awaitingResponse = true;
            responseDeadlineNanos = System.nanoTime() + core.settings().responseTimeout().toNanos();
            scheduleDeadlineCheck(responseDeadlineNanos);
        }

        private void cancelResponseTimer() {
            awaitingResponse = false;
        }

        void responseTimedOut() {
            awaitingResponse = false;
            if (exchange != this || responseStarted || relaying) return;
            java.time.Duration timeout = core.settings().responseTimeout();
            answer(504, "the container's port " + backend.port() + " did not answer within "
                    + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms"));
        }

        /** Request and response are both complete: the backend goes back to the pool, the next request may start. */
        private void finish() {
            cancelResponseTimer();
            releaseParts();
            BackendConnection used = connection;
            connection = null;
            if (used != null) used.release(backendKeepAlive && requestComplete);
            exchange = null;
            if (closeClientAfter) {
                closeAfterFlush();
                return;
            }
            client.flush();
            drainWaiting();
        }

        /** The client went away or was refused: nothing of this exchange is needed any more. */
        void abort() {
            cancelResponseTimer();
            releaseParts();
            BackendConnection used = connection;
            connection = null;
            if (used != null) used.release(false);
        }

        private void dropReplay() {
            if (replay != null) {
                for (HttpObject part : replay) ReferenceCountUtil.release(part);
                replay = null;
            }
        }

        private void releaseParts() {
            dropReplay();
            HttpObject part;
            while ((part = unsent.poll()) != null) ReferenceCountUtil.release(part);
        }
    }
}
