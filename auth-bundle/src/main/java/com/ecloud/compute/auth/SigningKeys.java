package com.ecloud.compute.auth;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import com.ecloud.compute.auth.internal.EcTokenIssuer;
import com.ecloud.compute.auth.internal.EcTokenVerifier;
import com.ecloud.compute.auth.internal.KeyFile;

/**
 * The token signing keys outside the framework: the launcher's {@code token} command (and tests) open the key
 * file here and get a {@link TokenIssuer} and a {@link TokenVerifier} on it, with no OSGi class involved. Inside
 * the framework the same code is offered as services (configuration PID {@code com.ecloud.compute.auth}).
 * <p>
 * The file is a JWK Set of EC P-256 keys (ES256), {@code <data>/secrets/token-signing.jwks} by default, mode
 * 0600 in a 0700 directory. The first key signs; every key verifies, so keys can be rotated (put the new key
 * first and keep the old one until its tokens expired) and several nodes can share the file. Each key has a
 * {@code kid} (its RFC 7638 thumbprint when created here), which tokens carry in their header. The file is
 * created with a fresh key by whoever needs it first, race-safe across threads and processes; a changed file
 * is re-read within a few seconds.
 */
public final class SigningKeys {

    /** Where the key file lives inside the data directory. */
    public static final String KEY_FILE_IN_DATA_DIRECTORY = "secrets/token-signing.jwks";

    /** How much a token's times may be off the local clock and still be accepted. */
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);

    private final KeyFile keyFile;

    private SigningKeys(KeyFile keyFile) {
        this.keyFile = keyFile;
    }

    /** {@code <dataDirectory>/secrets/token-signing.jwks} */
    public static Path keyFileIn(Path dataDirectory) {
        return dataDirectory.resolve(KEY_FILE_IN_DATA_DIRECTORY).toAbsolutePath().normalize();
    }

    /** Opens the key file of a data directory, creating it (and its directories) when missing. */
    public static SigningKeys openOrCreate(Path dataDirectory) throws IOException {
        return openOrCreateFile(keyFileIn(dataDirectory));
    }

    /**
     * Opens a key file, creating it (and its directories) when missing.
     *
     * @throws IOException the file cannot be read or created, or is not a JWK Set of EC P-256 keys
     */
    public static SigningKeys openOrCreateFile(Path keyFile) throws IOException {
        KeyFile file = new KeyFile(keyFile);
        file.load();
        return new SigningKeys(file);
    }

    public Path file() {
        return keyFile.path();
    }

    /** The {@code kid} new tokens carry. */
    public String signingKeyId() {
        return keyFile.keys().signingKeyId();
    }

    /** The {@code kid}s accepted by the verifier, signing key first. */
    public List<String> keyIds() {
        return keyFile.keys().keyIds();
    }

    public TokenIssuer issuer() {
        return issuer(Clock.systemUTC());
    }

    public TokenIssuer issuer(Clock clock) {
        return new EcTokenIssuer(keyFile, clock);
    }

    public TokenVerifier verifier() {
        return verifier(DEFAULT_CLOCK_SKEW, Clock.systemUTC());
    }

    public TokenVerifier verifier(Duration clockSkew, Clock clock) {
        return new EcTokenVerifier(keyFile, clockSkew, clock);
    }
}
