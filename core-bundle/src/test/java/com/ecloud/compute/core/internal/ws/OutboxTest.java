package com.ecloud.compute.core.internal.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

class OutboxTest {

    /** A sink whose sends complete only when the test says so: a client that reads at the test's pace. */
    static final class ManualSink implements Outbox.Sink {
        final List<String> sent = new ArrayList<>();
        final List<Runnable> pending = new ArrayList<>();
        final List<Consumer<Throwable>> failures = new ArrayList<>();
        int closeCode;
        String closeReason;

        @Override
        public synchronized void send(String text, Runnable done, Consumer<Throwable> failed) {
            sent.add(text);
            pending.add(done);
            failures.add(failed);
        }

        @Override
        public synchronized void close(int code, String reason) {
            closeCode = code;
            closeReason = reason;
        }

        /** Completes the oldest send in flight. */
        void complete() {
            Runnable r;
            synchronized (this) {
                r = pending.remove(0);
                failures.remove(0);
            }
            r.run();
        }
    }

    @Test
    void holdsEventsUntilTheInitialListThenSendsItFirst() {
        ManualSink sink = new ManualSink();
        Outbox o = new Outbox(sink, 8);
        assertTrue(o.offer("e1"));
        assertTrue(o.offer("e2"));
        assertEquals(List.of(), sink.sent, "nothing goes out before the list");
        o.release("list");
        assertEquals(List.of("list"), sink.sent);
        sink.complete();
        sink.complete();
        sink.complete();
        assertEquals(List.of("list", "e1", "e2"), sink.sent);
        assertEquals(0, o.queued());
    }

    @Test
    void oneSendInFlightAtATimeInOrder() {
        ManualSink sink = new ManualSink();
        Outbox o = new Outbox(sink, 8);
        o.release("list");
        o.offer("a");
        o.offer("b");
        assertEquals(List.of("list"), sink.sent, "the next message waits for the one in flight");
        assertEquals(2, o.queued());
        sink.complete();
        assertEquals(List.of("list", "a"), sink.sent);
        sink.complete();
        sink.complete();
        assertEquals(List.of("list", "a", "b"), sink.sent);
        // idle again: the next offer goes out at once
        o.offer("c");
        assertEquals("c", sink.sent.get(3));
    }

    @Test
    void aFullQueueClosesTheSocketAsTooSlowAndDropsTheRest() {
        ManualSink sink = new ManualSink();
        Outbox o = new Outbox(sink, 3);
        o.release("list"); // in flight, never completed: the client stalled
        assertTrue(o.offer("1"));
        assertTrue(o.offer("2"));
        assertTrue(o.offer("3"));
        assertEquals(0, sink.closeCode);
        assertFalse(o.offer("4"), "the fourth waiting message overflows a queue of 3");
        assertEquals(Outbox.TOO_SLOW, sink.closeCode);
        assertTrue(sink.closeReason.startsWith("too slow: "), sink.closeReason);
        assertTrue(sink.closeReason.length() <= 123, "a close reason fits in a control frame");
        assertTrue(o.isClosed());
        assertEquals(0, o.queued());
        assertFalse(o.offer("5"));
        // a late completion of the stalled send sends nothing more
        sink.complete();
        assertEquals(List.of("list"), sink.sent);
    }

    @Test
    void synchronousSendsDrainTheQueue() {
        List<String> out = new ArrayList<>();
        Outbox o = new Outbox(new Outbox.Sink() {
            @Override
            public void send(String text, Runnable done, Consumer<Throwable> failed) {
                out.add(text);
                done.run();
            }

            @Override
            public void close(int code, String reason) {
                throw new AssertionError("closed: " + reason);
            }
        }, 2);
        for (int i = 0; i < 2; i++) o.offer("e" + i); // up to the capacity while held
        o.release("list");
        for (int i = 2; i < 1000; i++) o.offer("e" + i);
        assertEquals(1001, out.size(), "a client that keeps up never overflows");
        assertEquals("list", out.get(0));
        assertEquals("e999", out.get(1000));
    }

    @Test
    void aFailedSendClosesTheOutbox() {
        ManualSink sink = new ManualSink();
        Outbox o = new Outbox(sink, 4);
        o.release("list");
        o.offer("a");
        sink.failures.get(0).accept(new java.io.IOException("broken pipe"));
        assertTrue(o.isClosed());
        assertFalse(o.offer("b"));
    }
}
