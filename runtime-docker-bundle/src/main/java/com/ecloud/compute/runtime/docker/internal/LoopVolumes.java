package com.ecloud.compute.runtime.docker.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One size-capped volume per container: a sparse ext4 image file, loop-mounted on the host, whose subdirectories
 * (one per mount path) are bind-mounted into the container. The engine cannot cap a bind mount or a subdirectory
 * of a named volume (Docker 20.10), but a file system of its own stops every write at its size, for all the
 * container's mount paths together.
 *
 * <pre>
 * &lt;storage.dir&gt;/&lt;id&gt;/disk.img   the ext4 image (sparse: uses what was written)
 * &lt;storage.dir&gt;/&lt;id&gt;/mnt        its mount point; &lt;mnt&gt;/var/data is what /var/data shows inside
 * </pre>
 *
 * The host mount does not survive a reboot: {@link #ensureMounted} mounts it again and is called before every
 * start. Until then the mount point is an empty directory without the subdirectories, so the engine refuses to
 * start the container (bind sources must exist) rather than exposing the host's disk.
 */
final class LoopVolumes {

    private static final Logger LOG = LoggerFactory.getLogger(LoopVolumes.class);
    private static final long GIB = 1024L * 1024 * 1024;
    private static final long COMMAND_SECONDS = 120;

    private final Path root;

    LoopVolumes(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    /** Whether the container has a volume (its image file exists). */
    boolean exists(String containerId) {
        return Files.exists(image(containerId));
    }

    /**
     * Creates the volume if missing (sizeGb GiB), grows it if it is smaller than sizeGb, and mounts it.
     * Returns true when it was created now (empty).
     */
    synchronized boolean ensure(String containerId, int sizeGb) throws IOException {
        Path image = image(containerId);
        boolean created = false;
        if (!Files.exists(image)) {
            Files.createDirectories(image.getParent());
            Files.setPosixFilePermissions(image.getParent(), PosixFilePermissions.fromString("rwx------"));
            // build it under another name: a crash half-way leaves no image that looks complete
            Path partial = image.resolveSibling("disk.img.partial");
            Files.deleteIfExists(partial);
            try (RandomAccessFile file = new RandomAccessFile(partial.toFile(), "rw")) {
                file.setLength(sizeGb * GIB); // sparse: takes no space until written
            }
            // -m 0: no blocks reserved for root, the container gets the whole cap
            HostCommand.run(List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-L", "ecloud-" + containerId,
                    partial.toString()), COMMAND_SECONDS);
            Files.move(partial, image, StandardCopyOption.ATOMIC_MOVE);
            created = true;
        }
        ensureMounted(containerId);
        if (Files.size(image) < sizeGb * GIB) {
            grow(containerId, sizeGb);
        }
        return created;
    }

    /** Mounts the volume if it exists and is not mounted (after a reboot or a platform restart). */
    synchronized void ensureMounted(String containerId) throws IOException {
        Path image = image(containerId);
        if (!Files.exists(image)) return;
        Path mountPoint = mountPoint(containerId);
        if (loopDevice(mountPoint).isPresent()) return;
        Files.createDirectories(mountPoint);
        // nodev, nosuid: a container's root cannot turn its volume into a way to devices or set-uid binaries
        HostCommand.run(List.of("mount", "-o", "loop,nodev,nosuid,noatime", image.toString(), mountPoint.toString()),
                COMMAND_SECONDS);
    }

    /** Mounts every volume under the storage directory (at activation, after a reboot). */
    void mountAll() {
        if (!Files.isDirectory(root)) return;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                String id = dir.getFileName().toString();
                try {
                    ensureMounted(id);
                } catch (IOException e) {
                    LOG.warn(
                            "cannot mount the volume of " + id + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.warn(
                    "cannot list " + root + ": " + e.getMessage());
        }
    }

    /** The host directory that holds a mount path's content: {@code /var/data} -> {@code <mnt>/var/data}. */
    Path directoryFor(String containerId, String mountPath) {
        Path dir = mountPoint(containerId).resolve(mountPath.substring(1)).normalize();
        if (!dir.startsWith(mountPoint(containerId)) || dir.equals(mountPoint(containerId))) {
            throw new IllegalArgumentException("mount path outside the volume: " + mountPath);
        }
        return dir;
    }

    /** Bytes in use on the mounted volume (statvfs), 0 when there is none. */
    long usedBytes(String containerId) throws IOException {
        if (!exists(containerId)) return 0;
        ensureMounted(containerId);
        FileStore store = Files.getFileStore(mountPoint(containerId));
        return store.getTotalSpace() - store.getUnallocatedSpace();
    }

    /** Unmounts the volume and deletes it; a missing volume is fine. */
    synchronized void delete(String containerId) throws IOException {
        Path dir = root.resolve(containerId);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Path mountPoint = mountPoint(containerId);
        if (loopDevice(mountPoint).isPresent()) {
            try {
                HostCommand.run(List.of("umount", mountPoint.toString()), COMMAND_SECONDS);
            } catch (IOException busy) {
                // still referenced by a dying container's namespace: detach now, the kernel frees it when unused
                HostCommand.run(List.of("umount", "-l", mountPoint.toString()), COMMAND_SECONDS);
            }
            if (loopDevice(mountPoint).isPresent()) {
                throw new IOException(mountPoint + " is still mounted");
            }
        }
        deleteTree(dir);
    }

    /**
     * Grows the file system offline: create calls this when no container uses the volume, and online resizing
     * needs CAP_SYS_RESOURCE, which a platform in a restricted sandbox may lack.
     */
    private void grow(String containerId, int sizeGb) throws IOException {
        Path image = image(containerId);
        Path mountPoint = mountPoint(containerId);
        if (loopDevice(mountPoint).isPresent()) {
            HostCommand.run(List.of("umount", mountPoint.toString()), COMMAND_SECONDS);
        }
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(sizeGb * GIB);
        }
        // resize2fs wants a freshly checked file system; e2fsck -p exits 1 when it corrected something
        HostCommand.run(List.of("e2fsck", "-f", "-p", image.toString()), 1, COMMAND_SECONDS);
        HostCommand.run(List.of("resize2fs", image.toString()), COMMAND_SECONDS);
        ensureMounted(containerId);
    }

    private Path image(String containerId) {
        return root.resolve(containerId).resolve("disk.img");
    }

    Path mountPoint(String containerId) {
        return root.resolve(containerId).resolve("mnt");
    }

    /** The device mounted at {@code mountPoint} according to the kernel, if any. */
    private static Optional<String> loopDevice(Path mountPoint) throws IOException {
        String wanted = mountPoint.toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            // id parent major:minor root mount-point options ... - fstype source super-options
            String[] fields = line.split(" ");
            if (fields.length < 5 || !unescape(fields[4]).equals(wanted)) continue;
            int dash = line.indexOf(" - ");
            String[] tail = dash < 0 ? new String[0] : line.substring(dash + 3).split(" ");
            return Optional.of(tail.length > 1 ? unescape(tail[1]) : "");
        }
        return Optional.empty();
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String field) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void deleteTree(Path dir) throws IOException {
        // walkFileTree does not follow symbolic links: nothing outside the volume's directory is touched
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
