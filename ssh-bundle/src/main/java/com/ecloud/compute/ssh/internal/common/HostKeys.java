package com.ecloud.compute.ssh.internal.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import java.util.Set;

import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * The server's host key: generated once (EC P-256) into a file, then only read. Users' known_hosts stay valid
 * across restarts because MINA is told never to overwrite the file (not even when the algorithm differs).
 */
public final class HostKeys {

    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private HostKeys() {
    }

    /**
     * Loads the host key from {@code file}, generating it first when the file does not exist.
     *
     * @throws UncheckedIOException when the key can be neither read nor written (the gateway must not start with
     *                              a key that changes on every start)
     */
    public static KeyPairProvider loadOrGenerate(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        try {
            if (parent != null && !Files.isDirectory(parent)) {
                // the secrets directory is only for the platform's own user
                if (posix) {
                    Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
                } else {
                    Files.createDirectories(parent);
                }
            }
            SimpleGeneratorHostKeyProvider provider = new SimpleGeneratorHostKeyProvider(file);
            provider.setAlgorithm("EC");
            provider.setKeySize(256);
            provider.setOverwriteAllowed(false);
            List<KeyPair> keys = provider.loadKeys(null); // generates and writes it now, not on the first connection
            if (keys.isEmpty()) throw new IOException("no host key could be read from or written to " + file);
            if (posix) Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
            return provider;
        } catch (IOException e) {
            throw new UncheckedIOException("SSH host key " + file + ": " + e.getMessage(), e);
        }
    }
}
