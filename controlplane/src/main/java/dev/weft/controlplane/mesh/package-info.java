/**
 * Istio's MeshConfig (the {@code mesh} of the {@code istio} ConfigMap): the subset Weft reads,
 * loaded from the state directory's {@code mesh.yaml}, which {@code weft install --set
 * meshConfig.*} writes.
 */
package dev.weft.controlplane.mesh;
