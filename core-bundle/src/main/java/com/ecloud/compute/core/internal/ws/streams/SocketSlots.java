package com.ecloud.compute.core.internal.ws.streams;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** How many log and terminal sockets each user holds, against a cap; a slot is taken before upgrading. */
final class SocketSlots {

    private final int maxPerUser;
    private final Map<String, Integer> held = new ConcurrentHashMap<>();

    SocketSlots(int maxPerUser) {
        this.maxPerUser = Math.max(1, maxPerUser);
    }

    int max() {
        return maxPerUser;
    }

    /** @return false when the user already holds {@link #max()} */
    boolean reserve(String uid) {
        boolean[] ok = new boolean[1];
        held.compute(uid, (k, n) -> {
            int count = n == null ? 0 : n;
            ok[0] = count < maxPerUser;
            return ok[0] ? count + 1 : n;
        });
        return ok[0];
    }

    void release(String uid) {
        held.computeIfPresent(uid, (k, n) -> n <= 1 ? null : n - 1);
    }

    int held(String uid) {
        return held.getOrDefault(uid, 0);
    }
}
