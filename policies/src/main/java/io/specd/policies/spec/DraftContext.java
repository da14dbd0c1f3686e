package io.specd.policies.spec;

/**
 * What a policy knows when it plans a step.
 *
 * @param drafter the drafter's name ({@code medusa}, {@code clover}, {@code kangaroo})
 * @param temperature the request's sampling temperature (0 for greedy)
 * @param generated tokens generated so far in the request
 * @param batchOccupancy sequences sharing the device's current verification batch (1 alone)
 * @param freeDraft the acceptance rate of a draft the drafter has at hand for no drafting work
 *     (prompt lookup's match, {@code DraftSession#freeDraft}), else 0
 */
public record DraftContext(
    String drafter, double temperature, int generated, int batchOccupancy, double freeDraft) {

  /** A step without a free draft at hand. */
  public DraftContext(String drafter, double temperature, int generated, int batchOccupancy) {
    this(drafter, temperature, generated, batchOccupancy, 0);
  }
}
