package com.ecloud.compute.auth.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Duration;
import java.util.Date;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;

/**
 * The signing key file, a JWK Set ({@code <data>/secrets/token-signing.jwks}, mode 0600 in a 0700 directory).
 * Whoever needs it first (the server or the {@code token} command, in any process) creates it; the file is
 * published with {@code link(2)}, which fails when the name exists, so a loser of the race reads the winner's
 * key and every process ends up with the same one. ({@code Files.move} with {@code ATOMIC_MOVE} is
 * {@code rename(2)} on Linux, which silently replaces an existing file: it cannot publish "only if absent".)
 * <p>
 * The keys are re-read when the file changes (checked at most every {@link #RECHECK_INTERVAL}), so keys added
 * for rotation or by another node are honoured without a restart.
 */
public final class KeyFile {

    static final Duration RECHECK_INTERVAL = Duration.ofSeconds(2);

    private static final System.Logger LOG = System.getLogger(KeyFile.class.getName());
    private static final String DIRECTORY_MODE = "rwx------";
    private static final String FILE_MODE = "rw-------";
    private static final int MAX_FILE_SIZE = 1 << 20;

    private final Path path;
    private volatile SigningKeySet current;
    private volatile FileStamp currentStamp;
    private volatile long nextCheckNanos;

    public KeyFile(Path path) {
        this.path = path.toAbsolutePath().normalize();
    }

    public Path path() {
        return path;
    }

    /**
     * The current keys: read (or created) on first use, re-read when the file changed.
     *
     * @throws UncheckedIOException when the file can neither be read nor created on first use
     */
    public SigningKeySet keys() {
        SigningKeySet keys = current;
        if (keys != null && System.nanoTime() - nextCheckNanos < 0) return keys;
        synchronized (this) {
            if (current == null) {
                try {
                    load();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (System.nanoTime() - nextCheckNanos >= 0) {
                reloadIfChanged();
            }
            return current;
        }
    }

    /** Reads the file, creating it with a fresh key when it does not exist. */
    public synchronized SigningKeySet load() throws IOException {
        current = openOrCreate();
        nextCheckNanos = System.nanoTime() + RECHECK_INTERVAL.toNanos();
        return current;
    }

    private void reloadIfChanged() {
        nextCheckNanos = System.nanoTime() + RECHECK_INTERVAL.toNanos();
        FileStamp stamp;
        try {
            stamp = FileStamp.of(path);
        } catch (IOException e) {
            // deleted or unreadable: keep verifying with the keys already known rather than refusing everyone
            if (currentStamp != null) {
                LOG.log(System.Logger.Level.WARNING, "Signing key file " + path + " is gone (" + e
                        + "); keeping the keys read before");
                currentStamp = null;
            }
            return;
        }
        if (stamp.equals(currentStamp)) return;
        currentStamp = stamp;
        try {
            current = read();
            LOG.log(System.Logger.Level.INFO, "Re-read signing key file " + path + ": keys " + current.keyIds());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Signing key file " + path + " changed but cannot be used ("
                    + e.getMessage() + "); keeping the keys read before");
        }
    }

    private SigningKeySet openOrCreate() throws IOException {
        // three rounds cover "someone deleted the file between our failed link and our read"
        for (int round = 0; round < 3; round++) {
            try {
                return read();
            } catch (NoSuchFileException absent) {
                // create it below
            }
            if (create()) {
                LOG.log(System.Logger.Level.INFO, "Created signing key file " + path);
            }
        }
        return read();
    }

    private SigningKeySet read() throws IOException {
        FileStamp stamp = FileStamp.of(path);
        if (stamp.size() > MAX_FILE_SIZE) throw new IOException("Signing key file " + path + " is too large");
        String json = Files.readString(path, StandardCharsets.UTF_8);
        SigningKeySet keys;
        try {
            keys = SigningKeySet.of(JWKSet.parse(json));
        } catch (ParseException | IllegalArgumentException e) {
            throw new IOException("Signing key file " + path + " is not a usable JWK Set: " + e.getMessage(), e);
        }
        currentStamp = stamp;
        return keys;
    }

    /** @return true when this call published the file, false when another process or thread was first */
    private boolean create() throws IOException {
        Path directory = path.getParent();
        createPrivateDirectory(directory);
        byte[] content = newKeySetJson().getBytes(StandardCharsets.UTF_8);
        Path temp = Files.createTempFile(directory, ".token-signing-", ".tmp", fileMode());
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) channel.write(buffer);
                channel.force(true);
            }
            try {
                Files.createLink(path, temp);
                return true;
            } catch (FileAlreadyExistsException lostTheRace) {
                return false;
            } catch (UnsupportedOperationException | FileSystemException noHardLinks) {
                // a file system without hard links: a plain move, which fails when the name is taken
                // (there is a small window between its check and its rename; acceptable where links are missing)
                try {
                    Files.move(temp, path);
                    return true;
                } catch (FileAlreadyExistsException lostTheRace) {
                    return false;
                }
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void createPrivateDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) return;
        Path parent = directory.getParent();
        if (parent != null) Files.createDirectories(parent);
        try {
            if (posix()) {
                Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString(DIRECTORY_MODE)));
            } else {
                Files.createDirectory(directory);
            }
        } catch (FileAlreadyExistsException createdMeanwhile) {
            if (!Files.isDirectory(directory)) throw createdMeanwhile;
        }
    }

    private static FileAttribute<?>[] fileMode() {
        if (!posix()) return new FileAttribute<?>[0];
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(FILE_MODE))};
    }

    private static boolean posix() {
        return java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    static String newKeySetJson() {
        try {
            ECKey key = new ECKeyGenerator(Curve.P_256)
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256)
                    .keyIDFromThumbprint(true)
                    .issueTime(new Date())
                    .generate();
            return new JWKSet(key).toString(false);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot generate an EC P-256 key", e);
        }
    }

    /** What tells a changed file from the one read before: inode, size and modification time. */
    private record FileStamp(Object fileKey, long size, FileTime modified) {
        static FileStamp of(Path path) throws IOException {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            return new FileStamp(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
        }
    }
}
