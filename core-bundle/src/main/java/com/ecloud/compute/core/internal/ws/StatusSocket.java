package com.ecloud.compute.core.internal.ws;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code /compute/ws} socket of one user: subscribes on open, sends the container list first, then the
 * status changes the hub queues; gives its slot back when it closes. Incoming messages are ignored.
 * Public because Jetty reaches the listener methods through a public method-handle lookup.
 */
public final class StatusSocket implements Session.Listener.AutoDemanding {

    private static final Logger LOG = LoggerFactory.getLogger(StatusSocket.class);

    private final String uid;
    private final StatusHub hub;
    private final Supplier<String> initialList;
    private final StatusStreamConfig config;
    private final Consumer<StatusSocket> onClosed;
    private volatile Session session;
    private volatile Outbox outbox;
    private volatile long lastHeardNanos = System.nanoTime();
    private boolean released;

    StatusSocket(String uid, StatusHub hub, Supplier<String> initialList, StatusStreamConfig config,
            Consumer<StatusSocket> onClosed) {
        this.uid = uid;
        this.hub = hub;
        this.initialList = initialList;
        this.config = config;
        this.onClosed = onClosed;
    }

    @Override
    public void onWebSocketOpen(Session s) {
        this.session = s;
        s.setMaxTextMessageSize(config.max_message_bytes());
        s.setMaxBinaryMessageSize(config.max_message_bytes());
        s.setMaxFrameSize(config.max_message_bytes());
        s.setIdleTimeout(Duration.ofSeconds(Math.max(config.idle_timeout_seconds(), 2L * config.ping_interval_seconds())));
        Outbox o = new Outbox(new SessionSink(s), Math.max(1, config.queue_capacity()));
        this.outbox = o;
        // subscribe before reading the list: a change made meanwhile is queued behind the list, never lost
        hub.subscribe(uid, o);
        String list;
        try {
            list = initialList.get();
        } catch (RuntimeException e) {
            LOG.warn("status socket of {}: the container list could not be read", uid, e);
            s.close(1011, "container list unavailable", Callback.NOOP);
            return;
        }
        o.release(list);
    }

    /**
     * Sends a ping, or closes the socket when nothing (no pong, no frame) came back for {@code pongTimeout}: a
     * client that stopped reading never answers a ping, even before its buffers are full.
     */
    void ping(long nowNanos, Duration pongTimeout) {
        Session s = session;
        if (s == null || !s.isOpen()) return;
        long silent = nowNanos - lastHeardNanos;
        if (silent > pongTimeout.toNanos()) {
            Outbox o = outbox;
            if (o != null) o.close();
            String reason = "too slow: no pong for " + TimeUnit.NANOSECONDS.toSeconds(silent) + " s";
            LOG.info("closing a status socket of {}: {}", uid, reason);
            s.close(Outbox.TOO_SLOW, reason, Callback.NOOP);
            return;
        }
        s.sendPing(ByteBuffer.allocate(0), Callback.NOOP);
    }

    /** Closes the socket from the server's side, e.g. 1001 when the component goes away. */
    void close(int code, String reason) {
        Outbox o = outbox;
        if (o != null) o.close();
        Session s = session;
        if (s != null && s.isOpen()) s.close(code, reason, Callback.NOOP);
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        lastHeardNanos = System.nanoTime();
    }

    @Override
    public void onWebSocketText(String message) {
        // nothing is expected from the client; any frame shows it is alive
        lastHeardNanos = System.nanoTime();
    }

    /** Declared so that binary messages are size-checked (1009) like text, not discarded unchecked. */
    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        lastHeardNanos = System.nanoTime();
        callback.succeed();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        closed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.debug("status socket of {} failed", uid, cause);
        closed();
    }

    private void closed() {
        Outbox o = outbox;
        if (o != null) {
            o.close();
            hub.unsubscribe(uid, o);
        }
        synchronized (this) {
            if (released) return;
            released = true;
        }
        hub.release(uid);
        onClosed.accept(this);
    }

    /** Jetty's asynchronous send: never blocks the caller. */
    private record SessionSink(Session session) implements Outbox.Sink {
        @Override
        public void send(String text, Runnable done, Consumer<Throwable> failed) {
            session.sendText(text, Callback.from(done, failed));
        }

        @Override
        public void close(int code, String reason) {
            LOG.info("closing a status socket: {}", reason);
            session.close(code, reason, Callback.NOOP);
        }
    }
}
