package com.ecloud.compute.frameworktest;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for something the platform does asynchronously, with a deadline that turns a hang into a failure. */
final class Poll {

    private Poll() {
    }

    /** Asks {@code probe} every {@code interval} until {@code done} accepts its value; fails with the last one. */
    static <T> T until(String what, Duration timeout, Duration interval, Supplier<T> probe, Predicate<T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (true) {
            last = probe.get();
            if (done.test(last)) return last;
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + "; last: " + last);
            }
            sleep(interval);
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
