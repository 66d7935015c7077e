package com.ecloud.compute.runtime.contract;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.ecloud.compute.api.runtime.LogLine;
import com.ecloud.compute.api.runtime.LogListener;

/** Collects log lines and the end of a log stream, for assertions. */
public final class RecordingLogListener implements LogListener {

    private final List<LogLine> lines = new ArrayList<>();
    private final CompletableFuture<Throwable> end = new CompletableFuture<>();
    private final AtomicInteger endCalls = new AtomicInteger();

    @Override
    public synchronized void onLine(LogLine line) {
        lines.add(line);
    }

    @Override
    public void onEnd(Throwable error) {
        endCalls.incrementAndGet();
        end.complete(error);
    }

    public synchronized List<LogLine> lines() {
        return List.copyOf(lines);
    }

    public List<String> texts() {
        return lines().stream().map(LogLine::text).toList();
    }

    public boolean ended() {
        return end.isDone();
    }

    public int endCalls() {
        return endCalls.get();
    }

    /** Waits for onEnd; returns its error (null for a normal end). */
    public Throwable awaitEnd(Duration timeout) throws Exception {
        return end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits until a line with exactly {@code text} arrived. */
    public void awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!texts().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no log line [" + text + "] within " + timeout + ": " + texts());
            }
            Thread.sleep(50);
        }
    }
}
