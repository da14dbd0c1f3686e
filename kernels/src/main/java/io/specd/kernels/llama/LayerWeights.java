package io.specd.kernels.llama;

import ai.djl.ndarray.NDArray;

/**
 * One decoder layer's weights in the fused layout the forward pass uses. The RMSNorm gains are
 * folded into the rows of the projection that follows them, and the attention scale {@code
 * 1/sqrt(headSize)} into the query columns, so neither costs an op at run time.
 *
 * @param queryKeyValue {@code [dim, queryDim + 2 kvDim]}: {@code diag(attnNorm) · [Wq/√d | Wk |
 *     Wv]ᵀ}
 * @param output {@code [queryDim, dim]}: {@code Woᵀ}
 * @param gateUp {@code [dim, 2 ffnDim]}: {@code diag(ffnNorm) · [Wgate | Wup]ᵀ}
 * @param down {@code [ffnDim, dim]}: {@code Wdownᵀ}
 */
public record LayerWeights(NDArray queryKeyValue, NDArray output, NDArray gateUp, NDArray down) {}
