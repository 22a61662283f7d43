/**
 * The targets of a run, probed once each on first use: a target that cannot run on this machine
 * is remembered with its reason, so its cells are recorded as skipped rather than retried.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, TargetId } from "../backend.ts";
import { oneLine } from "../../lib/one_line.ts";

/** What the pool keeps per target. */
export interface TargetState {
  /** The backend, once created. */
  backend?: Backend;
  /** Its identity, when it probed fine. */
  identity?: BackendIdentity;
  /** Why it cannot run here, when it cannot. */
  unavailable?: string;
}

/** A suite's dense model on one target, loaded once and shared by every variant timed there. */
export interface DenseSession {
  /** The loaded dense model. */
  dense?: LoadedModel;
  /** Why it failed to load, so later variants fail fast with the same reason. */
  denseError?: string;
}

/** Identities of the backends a run used, by target. */
export type BackendIdentities = Partial<Record<TargetId, BackendIdentity>>;

/** Backends by target, probed lazily; identities are written into the run's record. */
export class TargetPool {
  readonly #create: (id: TargetId) => Promise<Backend>;
  readonly #identities: BackendIdentities;
  readonly #states = new Map<TargetId, TargetState>();

  /**
   * @param create Creates a backend by id.
   * @param identities Where the identities of the probed backends go.
   */
  constructor(create: (id: TargetId) => Promise<Backend>, identities: BackendIdentities) {
    this.#create = create;
    this.#identities = identities;
  }

  /**
   * The state of a target, probing it on first use.
   *
   * @param target Target id.
   * @returns Its state.
   */
  async get(target: TargetId): Promise<TargetState> {
    let s = this.#states.get(target);
    if (s) return s;
    s = {};
    this.#states.set(target, s);
    try {
      s.backend = await this.#create(target);
      const why = await s.backend.probe();
      if (why) s.unavailable = why;
      else {
        s.identity = await s.backend.identity();
        this.#identities[target] = s.identity;
      }
    } catch (e) {
      s.unavailable = oneLine(e);
    }
    return s;
  }
}
