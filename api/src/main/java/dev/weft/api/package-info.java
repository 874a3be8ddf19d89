/**
 * Weft's resource model: Istio's networking, security and telemetry APIs and the core/v1 kinds Weft
 * reads (Service, Namespace, Secret), parsed strictly from YAML or JSON into immutable records.
 *
 * <p>Model objects are built only by the parser ({@link dev.weft.api.ResourceParser}); code and
 * tests elsewhere create them by parsing YAML, so that adding a field never breaks a caller.
 */
package dev.weft.api;
