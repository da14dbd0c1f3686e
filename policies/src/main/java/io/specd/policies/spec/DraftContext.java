package io.specd.policies.spec;

/**
 * What a policy knows when it plans a step.
 *
 * @param drafter the drafter's name ({@code medusa}, {@code clover}, {@code kangaroo})
 * @param temperature the request's sampling temperature (0 for greedy)
 * @param generated tokens generated so far in the request
 * @param batchOccupancy sequences sharing the device's current verification batch (1 alone)
 */
public record DraftContext(String drafter, double temperature, int generated, int batchOccupancy) {}
