package com.ecloud.compute.core.internal.lifecycle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Runtime hosts an operator drained: no new container is placed on them; those already there stay. Kept in
 * {@code <data>/state/drained-hosts} (one host name a line), so a drain outlives a restart.
 */
@Component(service = DrainedHosts.class)
public class DrainedHosts {

    private final Path file;
    private final Set<String> hosts = new ConcurrentSkipListSet<>();

    @Activate
    public DrainedHosts(BundleContext context) throws IOException {
        this(Path.of(context.getProperty("ecloud.data") == null ? "data" : context.getProperty("ecloud.data"))
                .resolve("state").resolve("drained-hosts"));
    }

    /** Outside OSGi (tests): state in {@code file}. */
    public DrainedHosts(Path file) throws IOException {
        this.file = file.toAbsolutePath();
        if (Files.isRegularFile(this.file)) {
            for (String line : Files.readAllLines(this.file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) hosts.add(line.strip());
            }
        }
    }

    public boolean contains(String host) {
        return hosts.contains(host);
    }

    public Set<String> all() {
        return new TreeSet<>(hosts);
    }

    /** Marks {@code host} drained (true) or schedulable again (false); true when that changed anything. */
    public synchronized boolean set(String host, boolean drained) throws IOException {
        boolean changed = drained ? hosts.add(host) : hosts.remove(host);
        if (changed) save();
        return changed;
    }

    private void save() throws IOException {
        Files.createDirectories(file.getParent());
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, String.join("\n", all()) + "\n", StandardCharsets.UTF_8);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
