package com.ecloud.compute.core.internal.ws;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The outgoing messages of one socket: a bounded queue with at most one send in flight, so that a producer never
 * waits for a client. When the queue is full the client is too slow: the socket is closed with
 * {@link #TOO_SLOW} and a reason, and everything queued is dropped.
 *
 * <p>Starts held: messages are queued but not sent until {@link #release(String)} puts the first message (the
 * initial container list) ahead of them, so that events seen while the list was read are not lost nor sent first.
 */
final class Outbox {

    /** Policy violation: the client does not read fast enough. */
    static final int TOO_SLOW = 1008;

    /** Where the messages go: a WebSocket session in production, a recorder in tests. */
    interface Sink {
        /** Sends one text message asynchronously; exactly one of the callbacks runs when done. */
        void send(String text, Runnable done, Consumer<Throwable> failed);

        /** Closes the socket with a close code and reason. */
        void close(int code, String reason);
    }

    private final Sink sink;
    private final int capacity;
    private final ArrayDeque<String> queue = new ArrayDeque<>();
    private boolean held = true;
    private boolean sending;
    private boolean closed;

    Outbox(Sink sink, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
        this.sink = sink;
        this.capacity = capacity;
    }

    /**
     * Queues a message; never blocks.
     *
     * @return false when the outbox is closed, or has just been closed because it was full
     */
    boolean offer(String message) {
        String next = null;
        boolean overflow = false;
        synchronized (this) {
            if (closed) return false;
            if (queue.size() >= capacity) {
                closed = true;
                overflow = true;
                queue.clear();
            } else {
                queue.addLast(message);
                if (!held && !sending) {
                    next = queue.pollFirst();
                    sending = true;
                }
            }
        }
        if (overflow) {
            sink.close(TOO_SLOW, "too slow: more than " + capacity + " messages waiting");
            return false;
        }
        if (next != null) send(next);
        return true;
    }

    /** Sends {@code first}, then whatever was queued while held. */
    void release(String first) {
        String next;
        synchronized (this) {
            if (closed || !held) return;
            held = false;
            queue.addFirst(first);
            if (sending) return;
            next = queue.pollFirst();
            sending = true;
        }
        send(next);
    }

    /** Stops sending: the socket closed. */
    synchronized void close() {
        closed = true;
        queue.clear();
    }

    synchronized boolean isClosed() {
        return closed;
    }

    synchronized int queued() {
        return queue.size();
    }

    /**
     * Sends {@code first} and then the queue until it is empty or a send completes later. A loop rather than
     * recursion: a transport that completes sends inline (a fast client) would otherwise grow the stack for as
     * long as producers keep up.
     */
    private void send(String first) {
        String message = first;
        while (message != null) {
            InFlight inFlight = new InFlight();
            sink.send(message, () -> completed(inFlight), this::failed);
            synchronized (this) {
                if (!inFlight.done) {
                    // completes later, on another thread: that thread continues
                    inFlight.async = true;
                    return;
                }
                message = next();
            }
        }
    }

    private void completed(InFlight sending) {
        String message;
        synchronized (this) {
            if (!sending.async) {
                // completed inside sink.send: the loop in send() continues
                sending.done = true;
                return;
            }
            message = next();
        }
        if (message != null) send(message);
    }

    /** The next message to send, or null (and no longer sending). Called holding the lock. */
    private String next() {
        String message = closed ? null : queue.pollFirst();
        if (message == null) this.sending = false;
        return message;
    }

    /** One send's completion, guarded by the outbox's lock. */
    private static final class InFlight {
        boolean done;
        boolean async;
    }

    private void failed(Throwable cause) {
        // the transport is broken (client gone): Jetty reports the close separately
        close();
    }
}
