package com.ecloud.compute.core.internal.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

class StatusHubTest {

    /** Records what one socket would send; completes every send at once (a fast client). */
    static final class FastSink implements Outbox.Sink {
        final List<String> sent = new ArrayList<>();
        volatile String closed;

        @Override
        public synchronized void send(String text, Runnable done, Consumer<Throwable> failed) {
            sent.add(text);
            done.run();
        }

        @Override
        public void close(int code, String reason) {
            closed = code + " " + reason;
        }
    }

    /** Never completes a send: a client that stopped reading. */
    static final class StalledSink implements Outbox.Sink {
        final AtomicInteger sends = new AtomicInteger();
        volatile String closed;

        @Override
        public void send(String text, Runnable done, Consumer<Throwable> failed) {
            sends.incrementAndGet();
        }

        @Override
        public void close(int code, String reason) {
            closed = code + " " + reason;
        }
    }

    private static Outbox open(StatusHub hub, String uid, Outbox.Sink sink, int capacity) {
        Outbox o = new Outbox(sink, capacity);
        hub.subscribe(uid, o);
        o.release("list:" + uid);
        return o;
    }

    @Test
    void eventsReachOnlyTheOwnersSockets() {
        StatusHub hub = new StatusHub(16);
        FastSink alice1 = new FastSink();
        FastSink alice2 = new FastSink();
        FastSink bob = new FastSink();
        open(hub, "alice", alice1, 8);
        open(hub, "alice", alice2, 8);
        open(hub, "bob", bob, 8);
        hub.publish("alice", "a-running");
        hub.publish("bob", "b-stopped");
        hub.publish("carol", "nobody listens");
        assertEquals(List.of("list:alice", "a-running"), alice1.sent);
        assertEquals(List.of("list:alice", "a-running"), alice2.sent);
        assertEquals(List.of("list:bob", "b-stopped"), bob.sent);
    }

    @Test
    void aStalledSocketIsClosedAndNeverDelaysTheOthers() {
        StatusHub hub = new StatusHub(16);
        StalledSink stalled = new StalledSink();
        FastSink live = new FastSink();
        open(hub, "alice", stalled, 4);
        open(hub, "alice", live, 4);
        for (int i = 0; i < 100; i++) hub.publish("alice", "e" + i);
        assertEquals(101, live.sent.size(), "the fast socket got every message");
        assertTrue(stalled.closed != null && stalled.closed.startsWith("1008 too slow"), stalled.closed);
        assertEquals(1, stalled.sends.get(), "only the list was ever handed to the stalled socket");
        assertEquals(1, hub.sockets("alice"), "the stalled socket left the hub");
    }

    @Test
    void unsubscribedSocketsGetNothing() {
        StatusHub hub = new StatusHub(16);
        FastSink s = new FastSink();
        Outbox o = open(hub, "alice", s, 4);
        hub.unsubscribe("alice", o);
        hub.publish("alice", "late");
        assertEquals(List.of("list:alice"), s.sent);
        assertEquals(0, hub.sockets("alice"));
    }

    @Test
    void capsSocketsPerUser() {
        StatusHub hub = new StatusHub(2);
        assertTrue(hub.reserve("alice"));
        assertTrue(hub.reserve("alice"));
        assertFalse(hub.reserve("alice"));
        assertTrue(hub.reserve("bob"), "the cap is per user");
        hub.release("alice");
        assertTrue(hub.reserve("alice"), "a released slot can be taken again");
        hub.release("alice");
        hub.release("alice");
        hub.release("alice"); // one too many is harmless
        assertEquals(0, hub.reservations("alice"));
    }

    @Test
    void concurrentReservationsNeverPassTheCap() throws Exception {
        StatusHub hub = new StatusHub(16);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        for (int i = 0; i < 200; i++) {
            pool.execute(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (hub.reserve("alice")) granted.incrementAndGet();
            });
        }
        start.countDown();
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(16, granted.get());
    }

    @Test
    void concurrentPublishersKeepEachSocketsOrderPerPublisher() throws Exception {
        StatusHub hub = new StatusHub(16);
        FastSink s = new FastSink();
        open(hub, "alice", s, 100_000);
        Thread t1 = new Thread(() -> { for (int i = 0; i < 5000; i++) hub.publish("alice", "x" + i); });
        Thread t2 = new Thread(() -> { for (int i = 0; i < 5000; i++) hub.publish("alice", "y" + i); });
        t1.start();
        t2.start();
        t1.join();
        t2.join();
        List<String> sent;
        synchronized (s) {
            sent = new ArrayList<>(s.sent);
        }
        assertEquals(10_001, sent.size());
        List<String> xs = sent.stream().filter(m -> m.startsWith("x")).toList();
        for (int i = 0; i < xs.size(); i++) assertEquals("x" + i, xs.get(i));
    }
}
