package com.ecloud.compute.itest.harness;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Bounded waits: every wait in these tests has a deadline and says what it waited for when it runs out. */
public final class Poll {

    private Poll() {
    }

    /**
     * Reads {@code probe} every {@code every} until {@code done} holds, and returns that value; fails after
     * {@code timeout} with {@code what} and the last value read.
     */
    public static <T> T until(String what, Duration timeout, Duration every, Supplier<T> probe, Predicate<? super T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        RuntimeException lastError = null;
        while (true) {
            try {
                last = probe.get();
                lastError = null;
                if (done.test(last)) return last;
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError failure = new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for "
                        + what + "; last seen: " + last);
                if (lastError != null) failure.initCause(lastError);
                throw failure;
            }
            sleep(every);
        }
    }

    public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<? super T> done) {
        return until(what, timeout, Duration.ofMillis(500), probe, done);
    }

    public static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
