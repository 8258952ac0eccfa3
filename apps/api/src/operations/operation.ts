import type { JsonText, UseCaseContext } from "@arcadia/db";
import type { Principal } from "@arcadia/domain";
import type { z } from "zod";
import type { Services } from "../services.ts";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** Who may call an operation, for the docs; the use cases enforce it. */
export type Access = "any" | "admins" | "platform_admin" | "platform_admin, tenant_admin (own tenant)";

export interface CallEnv {
  readonly ctx: UseCaseContext;
  readonly principal: Principal;
  readonly services: Services;
}

/**
 * One operation of the API, served as a tRPC procedure and a REST route and described in the
 * OpenAPI document — all from this one definition: validate, call the use case, map the result.
 */
export interface Operation<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodType = z.ZodType,
  N extends string = string,
  K extends "query" | "mutation" = "query" | "mutation",
> {
  /** The tRPC path "area.procedure", e.g. "deployments.transition": the router is built from it. */
  readonly name: N;
  readonly kind: K;
  readonly method: HttpMethod;
  /** REST path under /api/v1, with {params} that are also input fields. */
  readonly path: string;
  readonly status: 200 | 201 | 202;
  readonly summary: string;
  readonly access: Access;
  readonly input: I;
  readonly output: O;
  /**
   * Call the use case, present the result: a value, or its JSON text when PostgreSQL built it in
   * the contract's shape (`JsonText`, sent as it is).
   */
  readonly run: (env: CallEnv, input: z.output<I>) => Promise<z.input<O> | JsonText<z.input<O>>>;
}

export function operation<
  I extends z.ZodObject,
  O extends z.ZodType,
  const N extends string,
  K extends "query" | "mutation",
>(definition: Operation<I, O, N, K>): Operation<I, O, N, K> {
  return definition;
}

/** Whether every input field is optional, so that the operation may be called with no input at all. */
export function acceptsNoInput(op: Operation<z.ZodObject, z.ZodType, string>): boolean {
  return op.input.safeParse({}).success;
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}
