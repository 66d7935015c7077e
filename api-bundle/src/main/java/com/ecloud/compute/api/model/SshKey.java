package com.ecloud.compute.api.model;

import java.time.Instant;

/**
 * A public key a user added to their account.
 *
 * @param id          numeric id, unique across users
 * @param ownerId     the user id
 * @param name        the user's label
 * @param publicKey   OpenSSH form: "type base64 [comment]"
 * @param fingerprint SHA256 fingerprint of the key ("SHA256:..."), unique per owner
 * @param createdAt   when it was added
 */
public record SshKey(long id, String ownerId, String name, String publicKey, String fingerprint, Instant createdAt) {
}
