package com.ecloud.compute.core.internal.ws;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Who is listening to whose containers: the open status sockets by user, and the per-user cap. Fan-out only
 * queues (see {@link Outbox}), so one slow socket never delays another.
 */
final class StatusHub {

    private final int maxPerUser;
    private final Map<String, Set<Outbox>> byUser = new ConcurrentHashMap<>();
    private final Map<String, Integer> reserved = new ConcurrentHashMap<>();

    StatusHub(int maxPerUser) {
        this.maxPerUser = maxPerUser;
    }

    /**
     * Takes one of the user's socket slots, before upgrading.
     *
     * @return false when the user already holds {@code maxPerUser}
     */
    boolean reserve(String uid) {
        boolean[] ok = new boolean[1];
        reserved.compute(uid, (k, n) -> {
            int count = n == null ? 0 : n;
            ok[0] = count < maxPerUser;
            return ok[0] ? count + 1 : (n == null ? null : n);
        });
        return ok[0];
    }

    /** Gives back a slot taken by {@link #reserve}: the upgrade failed, or the socket closed. */
    void release(String uid) {
        reserved.computeIfPresent(uid, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Starts delivering the user's events to {@code outbox} (which holds them until its first message). */
    void subscribe(String uid, Outbox outbox) {
        byUser.computeIfAbsent(uid, k -> ConcurrentHashMap.newKeySet()).add(outbox);
    }

    void unsubscribe(String uid, Outbox outbox) {
        byUser.computeIfPresent(uid, (k, set) -> {
            set.remove(outbox);
            return set.isEmpty() ? null : set;
        });
    }

    /** Queues {@code message} on every socket of {@code uid}; drops sockets closed for being too slow. */
    void publish(String uid, String message) {
        Set<Outbox> set = byUser.get(uid);
        if (set == null) return;
        for (Outbox o : set) {
            if (!o.offer(message)) unsubscribe(uid, o);
        }
    }

    /** Every open outbox, e.g. to ping them. */
    void forEach(Consumer<Outbox> action) {
        byUser.values().forEach(set -> set.forEach(action));
    }

    int sockets(String uid) {
        Set<Outbox> set = byUser.get(uid);
        return set == null ? 0 : set.size();
    }

    int reservations(String uid) {
        return reserved.getOrDefault(uid, 0);
    }
}
