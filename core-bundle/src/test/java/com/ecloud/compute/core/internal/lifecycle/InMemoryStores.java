package com.ecloud.compute.core.internal.lifecycle;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.ContainerStore;
import com.ecloud.compute.api.store.IngressStore;
import com.ecloud.compute.api.store.KeyStore;
import com.ecloud.compute.api.store.LimitExceededException;

/** A fake of the three stores for unit tests of the lifecycle's logic (the real ones are tested on H2 and PostgreSQL). */
final class InMemoryStores implements ContainerStore, KeyStore {

    /** Waits (up to 10 s) until the stored container {@code id} meets {@code condition}; returns it. */
    Container await(String id, java.util.function.Predicate<Container> condition) throws InterruptedException {
        java.time.Instant until = java.time.Instant.now().plusSeconds(10);
        while (java.time.Instant.now().isBefore(until)) {
            Container c = find(id).orElse(null);
            if (c != null && condition.test(c)) return c;
            Thread.sleep(10);
        }
        throw new AssertionError("condition not met for " + id + ": " + find(id));
    }

    private final Map<String, Container> containers = new LinkedHashMap<>();
    private final Map<Long, SshKey> keys = new LinkedHashMap<>();
    private final List<IngressRule> rules = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();

    @Override
    public synchronized Container create(Container c, int maxPerOwner) {
        if (listByOwner(c.ownerId()).size() >= maxPerOwner) throw new LimitExceededException("limit");
        if (containers.containsKey(c.id())) throw new ConflictException("id taken");
        containers.put(c.id(), c);
        return c;
    }

    @Override
    public synchronized Optional<Container> find(String id) {
        return Optional.ofNullable(containers.get(id));
    }

    @Override
    public synchronized Optional<Container> findOwned(String ownerId, String id) {
        return find(id).filter(c -> c.ownerId().equals(ownerId));
    }

    @Override
    public synchronized List<Container> listByOwner(String ownerId) {
        return containers.values().stream().filter(c -> c.ownerId().equals(ownerId)).toList();
    }

    @Override
    public synchronized List<Container> listAll() {
        return List.copyOf(containers.values());
    }

    @Override
    public synchronized Optional<Container> update(String id, UnaryOperator<Container> change) {
        Container c = containers.get(id);
        if (c == null) return Optional.empty();
        Container next = change.apply(c);
        containers.put(id, next);
        return Optional.of(next);
    }

    @Override
    public synchronized boolean delete(String id) {
        rules.removeIf(r -> r.containerId().equals(id));
        return containers.remove(id) != null;
    }

    @Override
    public synchronized SshKey add(String ownerId, String name, String publicKey, String fingerprint, int maxPerOwner) {
        if (list(ownerId).size() >= maxPerOwner) throw new LimitExceededException("limit");
        SshKey k = new SshKey(ids.incrementAndGet(), ownerId, name, publicKey, fingerprint, Instant.now());
        keys.put(k.id(), k);
        return k;
    }

    @Override
    public synchronized List<SshKey> list(String ownerId) {
        return keys.values().stream().filter(k -> k.ownerId().equals(ownerId)).toList();
    }

    @Override
    public synchronized Optional<SshKey> find(String ownerId, long id) {
        return Optional.ofNullable(keys.get(id)).filter(k -> k.ownerId().equals(ownerId));
    }

    @Override
    public synchronized List<SshKey> findAll(String ownerId, Collection<Long> wanted) {
        return wanted.stream().map(id -> keys.get(id)).filter(k -> k != null && k.ownerId().equals(ownerId)).toList();
    }

    @Override
    public synchronized List<SshKey> attachedTo(String containerId) {
        Container c = containers.get(containerId);
        return c == null ? List.of() : c.sshKeyIds().stream().map(keys::get).filter(k -> k != null).toList();
    }

    @Override
    public synchronized Optional<List<String>> delete(String ownerId, long id) {
        if (find(ownerId, id).isEmpty()) return Optional.empty();
        keys.remove(id);
        List<String> used = new ArrayList<>();
        for (Container c : List.copyOf(containers.values())) {
            if (c.sshKeyIds().contains(id)) {
                used.add(c.id());
                containers.put(c.id(), c.withSshKeyIds(c.sshKeyIds().stream().filter(k -> k != id).toList()));
            }
        }
        return Optional.of(used);
    }

    /** The ingress part (its list(String) would clash with the key store's). */
    final IngressStore ingress = new IngressStore() {
        @Override
        public IngressRule add(String containerId, int port, int targetPort) {
            if (InMemoryStores.this.rules.stream().anyMatch(r -> r.containerId().equals(containerId) && r.port() == port)) {
                throw new ConflictException("port taken");
            }
            IngressRule r = new IngressRule(ids.incrementAndGet(), containerId, port, targetPort, Instant.now());
            InMemoryStores.this.rules.add(r);
            return r;
        }

            @Override
        public List<IngressRule> list(String containerId) {
            return InMemoryStores.this.rules.stream().filter(r -> r.containerId().equals(containerId))
                    .sorted(Comparator.comparingInt(IngressRule::port)).toList();
        }

            @Override
        public List<IngressRule> listAll() {
            return List.copyOf(rules);
        }

            @Override
        public boolean delete(String containerId, int port) {
            return InMemoryStores.this.rules.removeIf(r -> r.containerId().equals(containerId) && r.port() == port);
        }
    };
}
