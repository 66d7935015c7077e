package com.ecloud.compute.core.internal.lifecycle;

import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.runtime.LogListener;
import com.ecloud.compute.api.runtime.LogRequest;
import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeEventListener;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.RuntimeState.Phase;
import com.ecloud.compute.api.runtime.RuntimeUnsupportedException;
import com.ecloud.compute.api.runtime.Usage;

/** An in-memory runtime for unit tests of the lifecycle's logic; it emits events as an engine would. */
final class FakeRuntime implements ContainerRuntime {

    final Map<String, RuntimeState> containers = new ConcurrentHashMap<>();
    final Map<String, ContainerSpec> specs = new ConcurrentHashMap<>();
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final Set<String> storage = ConcurrentHashMap.newKeySet();
    final List<RuntimeEventListener> listeners = new CopyOnWriteArrayList<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    volatile Usage usage = new Usage(0, 0, 0);
    volatile boolean startFails;
    /** What the host offers: change to make it full or foreign. */
    volatile long memoryMb = 8192;
    volatile Set<Arch> arches = Set.of(Arch.AMD64, Arch.ARM64);
    private final String host;

    FakeRuntime(String host) {
        this.host = host;
    }

    @Override public String type() { return "fake"; }
    @Override public String host() { return host; }

    @Override
    public Fingerprint fingerprint() {
        return new Fingerprint("fake", host, arches, 2, memoryMb, Health.HEALTHY, null);
    }

    @Override
    public void create(ContainerSpec spec) {
        calls.add("create " + spec.containerId());
        specs.put(spec.containerId(), spec);
        storage.add(spec.containerId());
        containers.putIfAbsent(spec.containerId(), new RuntimeState(spec.containerId(), Phase.CREATED, null, null, false, null, null));
    }

    @Override
    public void start(String id) {
        calls.add("start " + id);
        RuntimeState s = require(id);
        if (startFails) throw new com.ecloud.compute.api.runtime.RuntimeRejectedException("image has no command");
        if (s.running()) return;
        containers.put(id, new RuntimeState(id, Phase.RUNNING, null, null, false, Instant.now(), null));
        emit(id, RuntimeEvent.Kind.STARTED, null);
    }

    @Override
    public void stop(String id, Duration grace) {
        calls.add("stop " + id);
        if (!require(id).running()) return;
        exit(id, 143, false);
    }

    /** The main process ends by itself. */
    void exit(String id, int code, boolean oom) {
        exit(id, code, oom, oom);
    }

    /** The main process ends by itself; an OOM kill is reported as an event first only when {@code reportOom}. */
    void exit(String id, int code, boolean oom, boolean reportOom) {
        containers.put(id, new RuntimeState(id, Phase.EXITED, code, null, oom, null, Instant.now()));
        if (reportOom) emit(id, RuntimeEvent.Kind.OOM, null); // as Docker reports it: the kill, then the death
        emit(id, RuntimeEvent.Kind.DIED, code);
    }

    /** While set and not counted down, inspect waits: an engine slow to answer. */
    volatile java.util.concurrent.CountDownLatch inspectGate;

    @Override
    public void remove(String id) {
        calls.add("remove " + id);
        if (containers.remove(id) != null) emit(id, RuntimeEvent.Kind.REMOVED, null);
    }

    @Override
    public void removeStorage(String id) {
        calls.add("removeStorage " + id);
        if (containers.remove(id) != null) emit(id, RuntimeEvent.Kind.REMOVED, null); // the container goes first
        storage.remove(id);
    }

    @Override
    public RuntimeState inspect(String id) {
        java.util.concurrent.CountDownLatch gate = inspectGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return require(id);
    }

    @Override
    public List<RuntimeState> list() {
        return new ArrayList<>(containers.values());
    }

    @Override
    public List<String> storageIds() {
        return new ArrayList<>(storage);
    }

    @Override
    public Usage usage(String id) {
        require(id);
        return usage;
    }

    @Override
    public Closeable logs(String id, LogRequest request, LogListener listener) {
        throw new RuntimeUnsupportedException("no logs in the fake");
    }

    @Override
    public ExecSession exec(String id, ExecSpec spec, ExecListener listener) {
        throw new RuntimeUnsupportedException("no exec in the fake");
    }

    @Override
    public Closeable events(RuntimeEventListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public HostEndpoint expose(String id, int port) {
        return new HostEndpoint("127.0.0.1", 40000 + port);
    }

    @Override
    public void writeFile(String id, String path, byte[] content, int mode) {
        require(id);
        files.put(id + ":" + path, content);
    }

    private RuntimeState require(String id) {
        RuntimeState s = containers.get(id);
        if (s == null) throw new RuntimeNotFoundException("no such container " + id);
        return s;
    }

    private void emit(String id, RuntimeEvent.Kind kind, Integer exit) {
        RuntimeEvent e = new RuntimeEvent(host, id, kind, exit, Instant.now());
        listeners.forEach(l -> l.onEvent(e));
    }
}
