package com.ecloud.compute.runtime.lxd.internal;

import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.function.Consumer;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeEventListener;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * LXD's lifecycle event stream ({@code /1.0/events?type=lifecycle}, a WebSocket of JSON text frames) as runtime
 * events of the platform's instances. When the stream breaks it reconnects (1 s, then up to 30 s apart) and then
 * sends RESYNC, since events may have been missed meanwhile.
 *
 * <p>LXD 5.0 reports the end of an instance's init as {@code instance-shutdown} (a clean stop, or the init ending
 * by itself) or {@code instance-stopped} (a forced stop): neither carries an exit status. A clean shutdown is told
 * as exit 0 and a forced one as 137 (SIGKILL), as the runtime's stop records them.
 */
final class LxdEventSubscription implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(LxdEventSubscription.class);
    private static final String INSTANCES = "/1.0/instances/";

    private final LxdClient lxd;
    private final String host;
    private final RuntimeEventListener listener;
    /** The platform's container id of an LXD instance name, or null when the instance is not the platform's. */
    private final Function<String, String> containerIdOf;
    private final Consumer<LxdEventSubscription> onClosed;
    private final ObjectMapper json = new ObjectMapper();
    private final Thread thread;
    private volatile LxdWebSocket socket;
    private volatile boolean closed;

    LxdEventSubscription(LxdClient lxd, String host, RuntimeEventListener listener,
            Function<String, String> containerIdOf, Consumer<LxdEventSubscription> onClosed) {
        this.lxd = lxd;
        this.host = host;
        this.listener = listener;
        this.containerIdOf = containerIdOf;
        this.onClosed = onClosed;
        try {
            this.socket = lxd.webSocket("/1.0/events?type=lifecycle");
        } catch (RuntimeFailure e) {
            LOG.info("LXD events of {} not reachable yet ({}): retrying", host, e.getMessage());
        }
        this.thread = new Thread(this::run, "ecloud-lxd-events-" + host);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long backoffMillis = 1000;
        boolean missedSome = socket == null;
        while (!closed) {
            LxdWebSocket current = socket;
            if (current == null) {
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException e) {
                    return;
                }
                backoffMillis = Math.min(30_000, backoffMillis * 2);
                try {
                    current = lxd.webSocket("/1.0/events?type=lifecycle");
                    socket = current;
                    if (closed) break;
                } catch (RuntimeFailure e) {
                    LOG.debug("LXD events of {} still unreachable: {}", host, e.getMessage());
                    continue;
                }
            }
            if (missedSome) deliver(new RuntimeEvent(host, null, RuntimeEvent.Kind.RESYNC, null, Instant.now()));
            backoffMillis = 1000;
            try {
                LxdWebSocket.Message message;
                while ((message = current.read()) != null) {
                    if (message.text()) handle(message.asText());
                }
            } catch (IOException e) {
                if (!closed) LOG.info("LXD events of {} broke: {}", host, e.toString());
            }
            current.close();
            socket = null;
            missedSome = true;
        }
    }

    private void handle(String text) {
        JsonNode event;
        try {
            event = json.readTree(text);
        } catch (IOException e) {
            LOG.debug("not an LXD event: {}", text);
            return;
        }
        JsonNode metadata = event.path("metadata");
        String source = metadata.path("source").asText("");
        if (!source.startsWith(INSTANCES)) return;
        String name = source.substring(INSTANCES.length());
        int slash = name.indexOf('/'); // e.g. /1.0/instances/<n>/snapshots/<s>
        if (slash >= 0) return;
        name = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
        RuntimeEvent.Kind kind;
        Integer exitCode = null;
        switch (metadata.path("action").asText()) {
            case "instance-started" -> kind = RuntimeEvent.Kind.STARTED;
            case "instance-shutdown" -> {
                kind = RuntimeEvent.Kind.DIED;
                exitCode = 0;
            }
            case "instance-stopped" -> {
                kind = RuntimeEvent.Kind.DIED;
                exitCode = 128 + 9;
            }
            case "instance-deleted" -> kind = RuntimeEvent.Kind.REMOVED;
            default -> {
                return;
            }
        }
        String containerId = containerIdOf.apply(name);
        if (containerId == null) return;
        deliver(new RuntimeEvent(host, containerId, kind, exitCode, timestamp(event.path("timestamp").asText())));
    }

    private static Instant timestamp(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return Instant.now();
        }
    }

    /** An OOM kill seen in the instance's cgroup (see {@link OomWatch}). */
    void oomKilled(String instance) {
        String containerId = containerIdOf.apply(instance);
        if (containerId != null && !closed) {
            deliver(new RuntimeEvent(host, containerId, RuntimeEvent.Kind.OOM, null, Instant.now()));
        }
    }

    private void deliver(RuntimeEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.warn("a runtime event listener failed on {}: {}", event, e.toString());
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        LxdWebSocket current = socket;
        if (current != null) current.close();
        thread.interrupt();
        onClosed.accept(this);
    }
}
