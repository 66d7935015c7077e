package com.ecloud.compute.core.internal.ws.streams;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the log and terminal sockets share: limits on open, a send that waits for the client (the runtime's reader
 * thread then waits too, which is the backpressure: a terminal's PTY fills, a log read pauses) but only for a
 * bounded time, after which the client is closed as too slow (1008); pings; and exactly-once clean-up. Public
 * because Jetty reaches the listener methods through a public method-handle lookup.
 */
public abstract class StreamSocket implements Session.Listener.AutoDemanding {

    private static final Logger LOG = LoggerFactory.getLogger(StreamSocket.class);

    /** Policy violation: the client does not read fast enough. */
    static final int TOO_SLOW = 1008;

    protected final String uid;
    protected final String containerId;
    private final ContainerStreamsConfig config;
    private final Consumer<StreamSocket> onClosed;
    private final AtomicBoolean closed = new AtomicBoolean();
    protected volatile Session session;

    StreamSocket(String uid, String containerId, ContainerStreamsConfig config, Consumer<StreamSocket> onClosed) {
        this.uid = uid;
        this.containerId = containerId;
        this.config = config;
        this.onClosed = onClosed;
    }

    /** Configures the session; subclasses then start their stream. */
    protected void opened(Session s) {
        this.session = s;
        int max = Math.max(1024, config.max_message_bytes());
        s.setMaxTextMessageSize(max);
        s.setMaxBinaryMessageSize(max);
        s.setMaxFrameSize(max);
        s.setIdleTimeout(Duration.ofSeconds(Math.max(config.idle_timeout_seconds(), 2L * config.ping_interval_seconds())));
    }

    /**
     * Incoming text the stream does not use is dropped. Declared so that Jetty assembles and size-checks every
     * message (1009 past {@code max.message.bytes}); without a handler it would discard frames unchecked.
     */
    @Override
    public void onWebSocketText(String message) {
        // a log socket takes no input
    }

    /** Incoming binary the stream does not use is dropped, size-checked like text. */
    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        callback.succeed();
    }

    /** Sends text and waits until it is written; false when the socket is gone or was closed as too slow. */
    protected boolean sendText(String text) {
        Session s = session;
        if (s == null || closed.get()) return false;
        Callback.Completable done = new Callback.Completable();
        s.sendText(text, done);
        return await(done);
    }

    /** Sends binary and waits until it is written; false when the socket is gone or was closed as too slow. */
    protected boolean sendBinary(byte[] data) {
        Session s = session;
        if (s == null || closed.get()) return false;
        Callback.Completable done = new Callback.Completable();
        s.sendBinary(ByteBuffer.wrap(data), done);
        return await(done);
    }

    private boolean await(Callback.Completable done) {
        try {
            done.get(Math.max(1, config.send_timeout_seconds()), TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            LOG.info("closing the {} socket of {} on {}: too slow", kind(), uid, containerId);
            close(TOO_SLOW, "too slow: a message waited more than " + config.send_timeout_seconds() + " s");
            return false;
        } catch (ExecutionException e) {
            // the client went away: Jetty reports the close separately
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    void ping() {
        Session s = session;
        if (s != null && s.isOpen()) s.sendPing(ByteBuffer.allocate(0), Callback.NOOP);
    }

    /** Closes from the server's side. */
    void close(int code, String reason) {
        Session s = session;
        if (s != null && s.isOpen()) s.close(code, reason, Callback.NOOP);
    }

    boolean isClosed() {
        return closed.get();
    }

    @Override
    public final void onWebSocketClose(int statusCode, String reason) {
        closed();
    }

    @Override
    public final void onWebSocketError(Throwable cause) {
        LOG.debug("{} socket of {} on {} failed", kind(), uid, containerId, cause);
        closed();
    }

    private void closed() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            release();
        } finally {
            onClosed.accept(this);
        }
    }

    /** "logs" or "terminal", for log messages. */
    protected abstract String kind();

    /** Stops the runtime's side (the log read, the exec process); called once, when the socket has closed. */
    protected abstract void release();
}
