package com.ecloud.compute.runtime.contract;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.ecloud.compute.api.runtime.ExecListener;

/** Collects an exec process's output and its single onExit call, for assertions. */
public final class RecordingExecListener implements ExecListener {

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicInteger exitCalls = new AtomicInteger();

    @Override
    public void onOutput(byte[] data, boolean isStderr) {
        ByteArrayOutputStream target = isStderr ? stderr : stdout;
        synchronized (target) {
            target.write(data, 0, data.length);
        }
    }

    @Override
    public void onExit(Integer exitCode, Throwable error) {
        exitCalls.incrementAndGet();
        if (error != null) {
            exit.completeExceptionally(error);
        } else {
            exit.complete(exitCode);
        }
    }

    public String stdout() {
        synchronized (stdout) {
            return stdout.toString(StandardCharsets.UTF_8);
        }
    }

    public String stderr() {
        synchronized (stderr) {
            return stderr.toString(StandardCharsets.UTF_8);
        }
    }

    /** How often onExit was called (the contract says: exactly once). */
    public int exitCalls() {
        return exitCalls.get();
    }

    public boolean exited() {
        return exit.isDone();
    }

    /** Waits for onExit and returns the exit code (null when the runtime reported none). */
    public Integer awaitExit(Duration timeout) throws Exception {
        return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits until stdout contains {@code text}. */
    public void awaitStdout(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!stdout().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no [" + text + "] in output within " + timeout + ": [" + stdout()
                        + "] stderr [" + stderr() + "]");
            }
            Thread.sleep(50);
        }
    }
}
