/**
 * Access tokens of the Compute API: JWTs signed with an asymmetric key kept in the data directory, carrying
 * the user id ({@code sub}), an expiry ({@code exp}) and a {@code scope} claim of space-separated
 * {@code RESOURCE:ACTION[,ACTION]} grants. Usable inside the framework (the {@link TokenVerifier} service) and
 * outside it (the launcher's {@code token} command builds a {@link TokenIssuer} from the key file directly).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package com.ecloud.compute.auth;
