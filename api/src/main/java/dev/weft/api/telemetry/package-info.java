/** telemetry.istio.io: Telemetry. */
package dev.weft.api.telemetry;
