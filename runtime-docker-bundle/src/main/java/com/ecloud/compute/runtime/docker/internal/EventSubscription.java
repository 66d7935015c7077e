package com.ecloud.compute.runtime.docker.internal;

import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeEventListener;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;

/**
 * One subscription to the engine's event stream, filtered to the platform's containers and the actions the SPI
 * knows. When the stream breaks (the engine restarted, the socket went away) it reconnects with a growing delay
 * and then sends RESYNC, since events may have been missed meanwhile.
 */
final class EventSubscription implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(EventSubscription.class);
    private static final Duration FIRST_DELAY = Duration.ofMillis(500);
    private static final Duration MAX_DELAY = Duration.ofSeconds(30);

    private final DockerClient client;
    private final String host;
    private final RuntimeEventListener listener;
    private final ScheduledExecutorService scheduler;
    private final Runnable onStreamBroken;
    private final Consumer<EventSubscription> onClosed;
    private final Object lock = new Object();
    private ResultCallback.Adapter<Event> stream;
    private Duration delay = FIRST_DELAY;
    private boolean reconnecting;
    private boolean closed;

    EventSubscription(DockerClient client, String host, RuntimeEventListener listener,
            ScheduledExecutorService scheduler, Runnable onStreamBroken, Consumer<EventSubscription> onClosed) {
        this.client = client;
        this.host = host;
        this.listener = listener;
        this.scheduler = scheduler;
        this.onStreamBroken = onStreamBroken;
        this.onClosed = onClosed;
    }

    void open() {
        connect();
    }

    @Override
    public void close() {
        ResultCallback.Adapter<Event> current;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            current = stream;
            stream = null;
        }
        closeQuietly(current);
        onClosed.accept(this);
    }

    private void connect() {
        synchronized (lock) {
            if (closed) return;
            Stream callback = new Stream();
            stream = callback;
            try {
                client.eventsCmd()
                        .withEventTypeFilter(EventType.CONTAINER)
                        .withEventFilter("start", "die", "oom", "destroy")
                        .withLabelFilter(Map.of(DockerRuntime.LABEL_MANAGED, "true"))
                        .exec(callback);
            } catch (RuntimeException e) {
                lost(callback, e);
            }
        }
    }

    /** The stream broke: reconnect later, then RESYNC. */
    private void lost(Stream which, Throwable error) {
        Duration wait;
        synchronized (lock) {
            if (closed || stream != which) return; // closed, or an older stream's late news
            stream = null;
            reconnecting = true;
            wait = delay;
            delay = delay.multipliedBy(2).compareTo(MAX_DELAY) > 0 ? MAX_DELAY : delay.multipliedBy(2);
        }
        onStreamBroken.run(); // the engine may be gone: let the health probe look now
        LOG.info("event stream of {} broke ({}); reconnecting in {} ms", host,
                error == null ? "ended" : error.toString(), wait.toMillis());
        closeQuietly(which);
        try {
            scheduler.schedule(this::connect, wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException rejected) {
            LOG.debug("not reconnecting: the runtime is shutting down");
        }
    }

    private void connected(Stream which) {
        boolean resync;
        synchronized (lock) {
            if (closed || stream != which) return;
            resync = reconnecting;
            reconnecting = false;
            delay = FIRST_DELAY;
        }
        if (resync) deliver(new RuntimeEvent(host, null, RuntimeEvent.Kind.RESYNC, null, Instant.now()));
    }

    private void deliver(RuntimeEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.warn("runtime event listener failed on {}", event, e);
        }
    }

    private static RuntimeEvent.Kind kind(String action) {
        if (action == null) return null;
        return switch (action) {
            case "start" -> RuntimeEvent.Kind.STARTED;
            case "die" -> RuntimeEvent.Kind.DIED;
            case "oom" -> RuntimeEvent.Kind.OOM;
            case "destroy" -> RuntimeEvent.Kind.REMOVED;
            default -> null;
        };
    }

    private static void closeQuietly(ResultCallback.Adapter<Event> callback) {
        if (callback == null) return;
        try {
            callback.close();
        } catch (Exception e) {
            // already broken
        }
    }

    private final class Stream extends ResultCallback.Adapter<Event> {
        @Override
        public void onStart(Closeable closeable) {
            super.onStart(closeable);
            connected(this);
        }

        @Override
        public void onNext(Event event) {
            RuntimeEvent.Kind kind = kind(event.getAction() != null ? event.getAction() : event.getStatus());
            Map<String, String> attributes = event.getActor() == null ? Map.of() : event.getActor().getAttributes();
            String containerId = attributes == null ? null : attributes.get(DockerRuntime.LABEL_ID);
            if (kind == null || containerId == null) return;
            Integer exitCode = null;
            if (kind == RuntimeEvent.Kind.DIED && attributes.get("exitCode") != null) {
                try {
                    exitCode = Integer.valueOf(attributes.get("exitCode"));
                } catch (NumberFormatException e) {
                    exitCode = null;
                }
            }
            Instant at = event.getTimeNano() != null
                    ? Instant.ofEpochSecond(0, event.getTimeNano())
                    : event.getTime() != null ? Instant.ofEpochSecond(event.getTime()) : Instant.now();
            deliver(new RuntimeEvent(host, containerId, kind, exitCode, at));
        }

        @Override
        public void onError(Throwable throwable) {
            lost(this, throwable);
        }

        @Override
        public void onComplete() {
            lost(this, null);
        }
    }
}
