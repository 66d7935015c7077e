package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.security.PublicKey;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKey;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.access.SshTarget;
import com.ecloud.compute.api.model.ContainerStatus;

/**
 * Who may enter: the public key must be one of the container's authorized keys (user name = container id); an
 * unknown container, another user's container and a wrong key all look like a plain publickey failure. Only
 * once the client has proved that it holds the key (MINA checked the signature; no success sent yet) are the
 * actionable refusals sent as a disconnect reason: SSH disabled, container not running, too many sessions.
 */
final class SessionGuard implements PublickeyAuthenticator, SessionListener {

    private static final Logger LOG = LoggerFactory.getLogger(SessionGuard.class);
    private static final Pattern CONTAINER_ID = Pattern.compile("[a-z0-9]{8}");

    /** The owner whose session count this session holds. */
    private final AttributeKey<String> countedOwner = new AttributeKey<>();
    private final ContainerAccess access;
    private final int maxSessionsPerUser;
    private final Map<String, Integer> sessionsPerOwner = new HashMap<>();

    SessionGuard(ContainerAccess access, int maxSessionsPerUser) {
        this.access = access;
        this.maxSessionsPerUser = maxSessionsPerUser;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        // called for the key query and again for the signed request; MINA checks the signature after this
        if (username == null || !CONTAINER_ID.matcher(username).matches()) {
            LOG.info("SSH publickey refused from {}: user name is not a container id", session.getClientAddress());
            return false;
        }
        Optional<SshTarget> target;
        try {
            target = access.sshTarget(username);
        } catch (RuntimeException e) {
            LOG.warn("SSH publickey for {} from {}: the container's keys could not be read", username,
                    session.getClientAddress(), e);
            return false;
        }
        boolean accepted = target.map(t -> authorizes(t.authorizedKeys(), key)).orElse(false);
        if (!accepted) {
            LOG.info("SSH publickey refused for {} from {} ({} key {})", username, session.getClientAddress(),
                    KeyUtils.getKeyType(key), KeyUtils.getFingerPrint(key));
        }
        return accepted;
    }

    private static boolean authorizes(List<String> authorizedKeys, PublicKey offered) {
        for (String line : authorizedKeys) {
            try {
                PublicKeyEntry entry = PublicKeyEntry.parsePublicKeyEntry(line);
                PublicKey known = entry == null ? null
                        : entry.resolvePublicKey(null, Collections.emptyMap(), PublicKeyEntryResolver.IGNORING);
                if (known != null && KeyUtils.compareKeys(known, offered)) return true;
            } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
                LOG.warn("SSH: an authorized key could not be parsed: {}", e.toString());
            }
        }
        return false;
    }

    /**
     * The publickey method with the post-proof refusals: once MINA has verified the signature, the session is
     * either admitted (and counted for its owner) or disconnected with the reason, before any success is sent.
     */
    UserAuthPublicKeyFactory userAuthFactory(List<NamedFactory<Signature>> signatures) {
        return new UserAuthPublicKeyFactory(signatures) {
            @Override
            public UserAuthPublicKey createUserAuth(ServerSession session) {
                return new UserAuthPublicKey(getSignatureFactories()) {
                    @Override
                    public Boolean doAuth(Buffer buffer, boolean init) throws Exception {
                        Boolean proved = super.doAuth(buffer, init);
                        if (!Boolean.TRUE.equals(proved)) return proved;
                        return admitOrDisconnect(getServerSession(), getUsername());
                    }
                };
            }
        };
    }

    private boolean admitOrDisconnect(ServerSession session, String id) {
        String refusal;
        try {
            refusal = admit(session, id);
        } catch (RuntimeException e) {
            LOG.warn("SSH session for {}: the container could not be checked", id, e);
            refusal = "the platform could not check container " + id + ": try again later";
        }
        if (refusal == null) return true;
        int reason = refusal.startsWith("too many") ? SshConstants.SSH2_DISCONNECT_TOO_MANY_CONNECTIONS
                : SshConstants.SSH2_DISCONNECT_BY_APPLICATION;
        LOG.info("SSH session for {} from {} refused: {}", id, session.getClientAddress(), refusal);
        try {
            session.disconnect(reason, refusal);
        } catch (IOException e) {
            LOG.debug("SSH disconnect of {} failed", id, e);
        }
        return false;
    }

    /** Null when the session may go on (and then counts for its owner), else the message for the user. */
    private String admit(Session session, String id) {
        Optional<SshTarget> found = access.sshTarget(id);
        if (found.isEmpty()) return "container " + id + " no longer exists";
        SshTarget target = found.get();
        if (!target.sshEnabled()) {
            return "SSH is disabled for container " + id + ": enable it with PUT /compute/containers/" + id
                    + "/ssh {\"ssh_enabled\":true}";
        }
        if (target.status() != ContainerStatus.RUNNING) {
            return "container " + id + " is " + target.status().id() + ": start it with POST /compute/containers/"
                    + id + "/start";
        }
        synchronized (sessionsPerOwner) {
            int open = sessionsPerOwner.getOrDefault(target.ownerId(), 0);
            if (open >= maxSessionsPerUser) {
                return "too many SSH sessions for this user (at most " + maxSessionsPerUser + ")";
            }
            sessionsPerOwner.put(target.ownerId(), open + 1);
            session.setAttribute(countedOwner, target.ownerId());
        }
        return null;
    }

    @Override
    public void sessionClosed(Session session) {
        String owner = session.removeAttribute(countedOwner);
        if (owner == null) return;
        synchronized (sessionsPerOwner) {
            sessionsPerOwner.computeIfPresent(owner, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Open sessions counted for {@code ownerId} (for tests and logs). */
    int openSessions(String ownerId) {
        synchronized (sessionsPerOwner) {
            return sessionsPerOwner.getOrDefault(ownerId, 0);
        }
    }
}
