package com.ecloud.compute.core.internal.ws.streams;

import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.function.Consumer;

import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.LogLine;
import com.ecloud.compute.api.runtime.LogListener;
import com.ecloud.compute.api.runtime.LogRequest;

/**
 * {@code /compute/containers/:id/logs}: the last {@code tail} lines of what the container's main process wrote
 * (stdout and stderr), then new ones, one text message per line {@code <RFC3339 timestamp, 9 fraction digits>
 * <text>}. Closes with 1000 when the container stops; closing the socket stops the read from the runtime.
 */
public final class LogSocket extends StreamSocket implements LogListener {

    private static final Logger LOG = LoggerFactory.getLogger(LogSocket.class);

    /** RFC 3339 in UTC with always nine fraction digits, e.g. 2026-11-30T14:22:01.123456789Z. */
    static final DateTimeFormatter TIMESTAMP = new DateTimeFormatterBuilder().appendInstant(9).toFormatter();

    private final ContainerRuntime runtime;
    private final int tail;
    private volatile Closeable handle;

    LogSocket(String uid, String containerId, ContainerRuntime runtime, int tail, ContainerStreamsConfig config,
            Consumer<StreamSocket> onClosed) {
        super(uid, containerId, config, onClosed);
        this.runtime = runtime;
        this.tail = tail;
    }

    static String format(LogLine line) {
        Instant t = line.timestamp() == null ? Instant.EPOCH : line.timestamp();
        return TIMESTAMP.format(t) + " " + line.text();
    }

    @Override
    public void onWebSocketOpen(Session s) {
        opened(s);
        Closeable h;
        try {
            h = runtime.logs(containerId, new LogRequest(tail, true), this);
        } catch (RuntimeException e) {
            LOG.warn("logs of {} could not be read: {}", containerId, e.getMessage());
            close(1011, "the log cannot be read now");
            return;
        }
        handle = h;
        // the client may have gone while the stream was opened: release() then saw no handle
        if (isClosed()) closeQuietly(h);
    }

    @Override
    public void onLine(LogLine line) {
        sendText(format(line));
    }

    @Override
    public void onEnd(Throwable error) {
        if (error == null) {
            close(1000, "container stopped");
        } else {
            LOG.info("log stream of {} failed: {}", containerId, error.getMessage());
            close(1011, "the log stream failed");
        }
    }

    @Override
    protected String kind() {
        return "logs";
    }

    @Override
    protected void release() {
        Closeable h = handle;
        if (h != null) closeQuietly(h);
    }

    private void closeQuietly(Closeable h) {
        try {
            h.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the log stream of {}: {}", containerId, e.toString());
        }
    }
}
