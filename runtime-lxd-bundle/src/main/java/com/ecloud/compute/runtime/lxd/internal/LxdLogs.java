package com.ecloud.compute.runtime.lxd.internal;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.LogLine;
import com.ecloud.compute.api.runtime.LogListener;
import com.ecloud.compute.api.runtime.LogRequest;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;

/**
 * A container's log on LXD: its console (what the init, and anything writing to /dev/console or to the init's
 * stdout and stderr, prints). LXD serves a running instance's console log from liblxc's ring buffer, and reading it
 * consumes it: so the runtime moves what it reads into a log file of its own per container, which outlives the
 * instance (re-created containers keep one log) and is deleted with the container's storage. The console is read
 * when a log is asked for and before each stop.
 *
 * <p>LXD's console has neither timestamps nor streams: every line is stdout, and carries the time it was first
 * read. Following reads the console log of followed containers four times a second.
 */
final class LxdLogs implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LxdLogs.class);

    private final LxdClient lxd;
    private final Path keptDirectory;
    /** How often followed consoles are read (LXD's console WebSocket attaches a moment after it connects, and
     *  what is printed meanwhile would be missed; reading the console log misses nothing). */
    static final long POLL_MILLIS = 250;

    private final Set<Follower> followers = ConcurrentHashMap.newKeySet();
    /** Containers the runtime is stopping or has stopped (see {@link #stopping}). */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    private Thread poller;
    private boolean closed;

    LxdLogs(LxdClient lxd, Path keptDirectory) {
        this.lxd = lxd;
        this.keptDirectory = keptDirectory;
    }

    private Path keptFile(String containerId) {
        return keptDirectory.resolve(containerId + ".log");
    }

    /**
     * Moves what the console printed since the last read into the log file, and returns those lines. Reading a
     * running instance's console log consumes it (it is liblxc's ring buffer), so every read is kept, under a lock
     * that keeps the file in the order of the reads. A stopped instance's console is not read (its log file may
     * repeat what was read already): the runtime reads it before each stop.
     */
    synchronized List<String> collect(String containerId, String instance) {
        if (stopping.contains(containerId)) return List.of();
        List<String> lines = consoleLines(instance);
        if (lines.isEmpty()) return lines;
        Instant now = Instant.now();
        StringBuilder text = new StringBuilder();
        for (String line : lines) text.append(now).append(' ').append(line).append('\n');
        try {
            Files.createDirectories(keptDirectory);
            Files.writeString(keptFile(containerId), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            LOG.warn("{} log lines of {} could not be kept: {}", lines.size(), containerId, e.toString());
        }
        for (Follower follower : followers) {
            if (follower.containerId.equals(containerId)) follower.send(now, lines);
        }
        return lines;
    }

    /**
     * The runtime is about to stop the instance: its console's last lines are read now, and its console is not read
     * again until {@link #started}, since a stopped instance's console log repeats what was read already.
     */
    synchronized void stopping(String containerId, String instance) {
        try {
            collect(containerId, instance);
        } finally {
            stopping.add(containerId);
        }
    }

    /** The instance is being started: its console is read again. */
    synchronized void started(String containerId) {
        stopping.remove(containerId);
    }

    /** Deletes the kept log (with the container's storage). */
    void forget(String containerId) {
        try {
            Files.deleteIfExists(keptFile(containerId));
        } catch (IOException e) {
            LOG.warn("the kept log of {} could not be deleted: {}", containerId, e.toString());
        }
    }

    boolean hasLog(String containerId) {
        return Files.exists(keptFile(containerId));
    }

    private List<LogLine> kept(String containerId) {
        Path file = keptFile(containerId);
        if (!Files.exists(file)) return List.of();
        List<LogLine> lines = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int space = line.indexOf(' ');
                if (space < 0) continue;
                try {
                    lines.add(new LogLine(Instant.parse(line.substring(0, space)), false, line.substring(space + 1)));
                } catch (DateTimeParseException e) {
                    // a torn line from a crash while keeping: skip it
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return lines;
    }

    /** The console log so far as lines (a never-started instance has none). */
    private List<String> consoleLines(String instance) {
        if (instance == null) return List.of();
        byte[] console;
        try {
            console = lxd.fetch("/1.0/instances/" + LxdClient.segment(instance) + "/console");
        } catch (RuntimeNotFoundException gone) {
            return List.of();
        } catch (RuntimeFailure e) {
            // LXD answers an error when the instance never ran (no console log file yet)
            if (LxdClient.lxdError(e, "no such file")) return List.of();
            throw e;
        }
        LineSplitter splitter = new LineSplitter();
        List<String> lines = new ArrayList<>(splitter.add(console));
        String rest = splitter.rest();
        if (!rest.isEmpty()) lines.add(rest);
        return lines;
    }

    /**
     * Streams the log: the tail of kept and console lines, then (when following a running instance) the console as
     * it is written, until the instance stops ({@code stillRunning} turns false) or the handle is closed.
     */
    Closeable stream(String containerId, String instance, boolean running, LogRequest request, LogListener listener,
            Supplier<Boolean> stillRunning) {
        Follower follower;
        synchronized (this) {
            // read, send and register under the lock: a line read by anyone later reaches this follower too
            if (running) collect(containerId, instance);
            List<LogLine> lines = kept(containerId);
            int from = request.tail() < 0 ? 0 : Math.max(0, lines.size() - request.tail());
            for (LogLine line : lines.subList(from, lines.size())) listener.onLine(line);
            if (!request.follow() || !running) {
                listener.onEnd(null);
                return () -> { };
            }
            follower = new Follower(containerId, instance, listener, stillRunning);
            followers.add(follower);
            if (poller == null) {
                poller = new Thread(this::poll, "ecloud-lxd-console-poll");
                poller.setDaemon(true);
                poller.start();
            }
        }
        return follower;
    }

    /**
     * Reads the consoles of followed containers every {@value #POLL_MILLIS} ms: new lines go to the log file and to
     * every follower of that container; a follower ends when its instance no longer runs.
     */
    private void poll() {
        while (true) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            Map<String, Follower> byContainer = new java.util.LinkedHashMap<>();
            synchronized (this) {
                if (followers.isEmpty() || closed) {
                    poller = null;
                    return;
                }
                for (Follower follower : followers) byContainer.putIfAbsent(follower.containerId, follower);
            }
            for (Follower any : byContainer.values()) {
                boolean running = any.safeRunning();
                try {
                    // passes new lines on to the followers; a stopped instance's console is not read (see stopping)
                    if (running) collect(any.containerId, any.instance);
                } catch (RuntimeException e) {
                    LOG.debug("console of {} not read: {}", any.containerId, e.toString());
                }
                if (!running) {
                    for (Follower follower : List.copyOf(followers)) {
                        if (follower.containerId.equals(any.containerId)) follower.end();
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        List<Follower> open;
        synchronized (this) {
            closed = true;
            open = List.copyOf(followers);
        }
        for (Follower follower : open) follower.end();
    }

    /** One followed log: lines from any read of the container's console, until it stops or is closed. */
    private final class Follower implements Closeable {
        private final String containerId;
        private final String instance;
        private final LogListener listener;
        private final Supplier<Boolean> stillRunning;
        private final AtomicBoolean ended = new AtomicBoolean();

        Follower(String containerId, String instance, LogListener listener, Supplier<Boolean> stillRunning) {
            this.containerId = containerId;
            this.instance = instance;
            this.listener = listener;
            this.stillRunning = stillRunning;
        }

        void send(Instant at, List<String> lines) {
            if (ended.get()) return;
            try {
                for (String text : lines) listener.onLine(new LogLine(at, false, text));
            } catch (RuntimeException e) {
                LOG.warn("a log listener failed: {}", e.toString());
            }
        }

        boolean safeRunning() {
            try {
                return Boolean.TRUE.equals(stillRunning.get());
            } catch (RuntimeException e) {
                return false;
            }
        }

        void end() {
            if (!ended.compareAndSet(false, true)) return;
            synchronized (LxdLogs.this) {
                followers.remove(this);
            }
            listener.onEnd(null);
        }

        @Override
        public void close() {
            end();
        }
    }

    /** Bytes to lines: LF ends a line, a CR before it (the console is a terminal) is dropped. */
    static final class LineSplitter {
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        List<String> add(byte[] data) {
            List<String> lines = new ArrayList<>();
            for (byte b : data) {
                if (b == '\n') {
                    lines.add(take());
                } else {
                    partial.write(b);
                }
            }
            return lines;
        }

        String rest() {
            return take();
        }

        private String take() {
            String text = partial.toString(StandardCharsets.UTF_8);
            partial.reset();
            int end = text.length();
            while (end > 0 && text.charAt(end - 1) == '\r') end--;
            return text.substring(0, end).replace("\r", "");
        }
    }
}
