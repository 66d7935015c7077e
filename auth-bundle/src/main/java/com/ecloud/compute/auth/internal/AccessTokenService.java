package com.ecloud.compute.auth.internal;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.SigningKeys;
import com.ecloud.compute.auth.TokenIssuer;
import com.ecloud.compute.auth.TokenVerifier;

/**
 * Token verification (and minting, for operators' commands) inside the framework. Activation does no I/O: the
 * key file is read, or created, on first use, so a slow or broken disk never holds up the start.
 */
@Designate(ocd = AccessTokenService.Config.class)
@Component(configurationPid = AccessTokenService.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {TokenVerifier.class, TokenIssuer.class})
public class AccessTokenService implements TokenVerifier, TokenIssuer {

    public static final String PID = "com.ecloud.compute.auth";

    /** Framework property naming the data directory (set by the launcher's {@code --data}). */
    static final String DATA_DIRECTORY_PROPERTY = "ecloud.data";

    @ObjectClassDefinition(id = PID, name = "ecloud compute access tokens",
            description = "Verification of the API's bearer tokens (JWT, ES256)")
    public @interface Config {
        @AttributeDefinition(name = "Clock skew (seconds)",
                description = "How far a token's exp, nbf and iat may be off the local clock", min = "0")
        long clock_skew_seconds() default 30;

        @AttributeDefinition(name = "Signing key file",
                description = "JWK Set of EC P-256 keys; empty: <ecloud.data or ./data>/secrets/token-signing.jwks")
        String signing_key_file() default "";
    }

    private final EcTokenVerifier verifier;
    private final EcTokenIssuer issuer;

    @Activate
    public AccessTokenService(Config config, BundleContext context) {
        KeyFile keyFile = new KeyFile(keyFilePath(config.signing_key_file(), context.getProperty(DATA_DIRECTORY_PROPERTY)));
        Duration skew = Duration.ofSeconds(Math.max(0, config.clock_skew_seconds()));
        this.verifier = new EcTokenVerifier(keyFile, skew, Clock.systemUTC());
        this.issuer = new EcTokenIssuer(keyFile, Clock.systemUTC());
    }

    static Path keyFilePath(String configured, String dataDirectory) {
        if (configured != null && !configured.isBlank()) return Path.of(configured.trim()).toAbsolutePath();
        String data = dataDirectory == null || dataDirectory.isBlank() ? "data" : dataDirectory;
        return SigningKeys.keyFileIn(Path.of(data));
    }

    @Override
    public Principal verify(String token) throws InvalidTokenException {
        return verifier.verify(token);
    }

    @Override
    public String issue(String uid, List<Grant> grants, Duration ttl) {
        return issuer.issue(uid, grants, ttl);
    }
}
