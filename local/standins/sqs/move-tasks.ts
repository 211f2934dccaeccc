/**
 * StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask: moving messages out of a
 * dead-letter queue, oldest first, back to the queue each came from (or to an explicit destination),
 * at MaxNumberOfMessagesPerSecond. A task moves the messages present when it started; moved
 * messages are new messages (new MessageId, send time and receive count), as SQS redrive does.
 * Tasks live in memory: a restart forgets them (messages already moved stay moved).
 */
import { randomUUID } from 'node:crypto';
import { sqsErrors } from './errors';
import { SQS_LIMITS } from './limits';
import type { Queue } from './queue';
import type { QueueStore } from './queue-store';

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

export interface MoveTaskView {
  readonly TaskHandle?: string;
  readonly Status: MoveTaskStatus;
  readonly SourceArn: string;
  readonly DestinationArn?: string;
  readonly MaxNumberOfMessagesPerSecond?: number;
  readonly ApproximateNumberOfMessagesMoved: number;
  readonly ApproximateNumberOfMessagesToMove: number;
  readonly FailureReason?: string;
  readonly StartedTimestamp: number;
}

interface MoveTask {
  readonly handle: string;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number | undefined;
  readonly startedAt: number;
  readonly toMove: number;
  /** Keys still to move, oldest first. */
  remaining: string[];
  moved: number;
  status: MoveTaskStatus;
  failureReason: string | undefined;
  budget: number;
  lastTickAt: number;
}

/** Messages per second when the caller sets no rate ("system optimised" on SQS). */
const DEFAULT_RATE = 1_000;
const HISTORY_PER_SOURCE = 10;

export class MoveTaskRunner {
  private readonly tasks: MoveTask[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: QueueStore,
    private readonly afterMoves: () => void = () => undefined,
    private readonly tickMs = 50,
  ) {}

  start(sourceArn: unknown, destinationArn: unknown, rate: unknown): string {
    if (typeof sourceArn !== 'string' || sourceArn === '') throw sqsErrors.missingParameter('SourceArn');
    const source = this.store.findByArn(sourceArn);
    if (!source) throw sqsErrors.resourceNotFound();
    const sources = this.store.deadLetterSourcesOf(source);
    if (sources.length === 0) {
      throw sqsErrors.unsupportedOperation('Source queue must be configured as a Dead Letter Queue.');
    }
    if (destinationArn !== undefined && destinationArn !== null) {
      if (typeof destinationArn !== 'string' || !this.store.findByArn(destinationArn)) {
        throw sqsErrors.resourceNotFound(
          'The resource that you specified for the DestinationArn parameter does not exist.',
        );
      }
      if (destinationArn === sourceArn) {
        throw sqsErrors.invalidParameterValue('The source queue and destination queue must be different.');
      }
    }
    if (rate !== undefined && rate !== null) {
      if (
        typeof rate !== 'number' ||
        !Number.isInteger(rate) ||
        rate < 1 ||
        rate > SQS_LIMITS.moveTaskMaxRate
      ) {
        throw sqsErrors.invalidParameterValue(
          `Value ${String(rate)} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and ${SQS_LIMITS.moveTaskMaxRate}.`,
        );
      }
    }
    if (this.tasks.some((task) => task.sourceArn === sourceArn && task.status === 'RUNNING')) {
      throw sqsErrors.unsupportedOperation(
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const now = this.store.clock();
    const remaining = [...source.messages.values()].sort((a, b) => a.sentAt - b.sentAt).map((m) => m.key);
    const handle = Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn })).toString('base64');
    this.tasks.push({
      handle,
      sourceArn,
      destinationArn: typeof destinationArn === 'string' ? destinationArn : undefined,
      rate: typeof rate === 'number' ? rate : undefined,
      startedAt: now,
      toMove: remaining.length,
      remaining,
      moved: 0,
      status: 'RUNNING',
      failureReason: undefined,
      budget: 1, // the first message moves at once
      lastTickAt: now,
    });
    this.trimHistory(sourceArn);
    this.ensureTicking();
    return handle;
  }

  list(sourceArn: unknown, maxResults: unknown): MoveTaskView[] {
    if (typeof sourceArn !== 'string' || sourceArn === '') throw sqsErrors.missingParameter('SourceArn');
    if (!this.store.findByArn(sourceArn)) throw sqsErrors.resourceNotFound();
    const max = maxResults === undefined || maxResults === null ? 1 : Number(maxResults);
    if (!Number.isInteger(max) || max < 1 || max > SQS_LIMITS.listMoveTasksMaxResults) {
      throw sqsErrors.invalidParameterValue(
        `Value ${String(maxResults)} for parameter MaxResults is invalid. Reason: Must be between 1 and 10.`,
      );
    }
    return this.tasks
      .filter((task) => task.sourceArn === sourceArn)
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, max)
      .map(view);
  }

  cancel(handle: unknown): number {
    const task = this.tasks.find((candidate) => candidate.handle === handle);
    if (!task) throw sqsErrors.resourceNotFound('Task does not exist.');
    if (task.status !== 'RUNNING') {
      throw sqsErrors.unsupportedOperation(
        `Only a running task can be cancelled; this task is ${task.status}.`,
      );
    }
    task.status = 'CANCELLED';
    return task.moved;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One step of every running task (exposed so tests with a fake clock can drive it). */
  tick(): void {
    const now = this.store.clock();
    let movedAny = false;
    for (const task of this.tasks) {
      if (task.status !== 'RUNNING') continue;
      const rate = task.rate ?? DEFAULT_RATE;
      // At most one second of budget: a stalled task does not burst afterwards.
      task.budget = Math.min(rate, task.budget + ((now - task.lastTickAt) / 1000) * rate);
      task.lastTickAt = now;
      movedAny = this.advance(task, now) || movedAny;
    }
    if (movedAny) this.afterMoves();
    if (!this.tasks.some((task) => task.status === 'RUNNING')) this.stop();
  }

  private advance(task: MoveTask, now: number): boolean {
    const source = this.store.findByArn(task.sourceArn);
    if (!source)
      return this.fail(task, 'AWS.SimpleQueueService.NonExistentQueue: the source queue was deleted.');
    source.promote(now);
    let movedAny = false;
    const stillWaiting: string[] = [];
    let index = 0;
    // Oldest first, until the budget is spent: the rest waits, unread, for a later tick.
    // (1e-9: a budget summed from fractions must not miss a whole message to rounding)
    for (; index < task.remaining.length && task.budget >= 1 - 1e-9; index += 1) {
      const key = task.remaining[index]!;
      const message = source.messages.get(key);
      if (!message) continue; // deleted or expired meanwhile: nothing to move
      if (message.state !== 'visible') {
        stillWaiting.push(key);
        continue;
      }
      const destination = this.destinationFor(task, source, message.deadLetterSourceArn);
      if (!destination)
        return this.fail(
          task,
          'AWS.SimpleQueueService.NonExistentQueue: the destination queue does not exist.',
        );
      if (this.store.moveForTask(source, key, destination)) {
        task.moved += 1;
        task.budget -= 1;
        movedAny = true;
      } else {
        stillWaiting.push(key);
      }
    }
    // Unchanged when every key read is still waiting (nothing moved or gone): no copy.
    if (stillWaiting.length < index) task.remaining = stillWaiting.concat(task.remaining.slice(index));
    if (task.remaining.length === 0) task.status = 'COMPLETED';
    return movedAny;
  }

  private destinationFor(
    task: MoveTask,
    source: Queue,
    originalSourceArn: string | undefined,
  ): Queue | undefined {
    if (task.destinationArn) return this.store.findByArn(task.destinationArn);
    if (originalSourceArn) return this.store.findByArn(originalSourceArn);
    // A message sent straight to the DLQ has no source; with exactly one source queue, use it.
    const sources = this.store.deadLetterSourcesOf(source);
    return sources.length === 1 ? sources[0] : undefined;
  }

  private fail(task: MoveTask, reason: string): boolean {
    task.status = 'FAILED';
    task.failureReason = reason;
    return false;
  }

  private ensureTicking(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private trimHistory(sourceArn: string): void {
    const ofSource = this.tasks.filter((task) => task.sourceArn === sourceArn);
    for (const old of ofSource.slice(0, Math.max(0, ofSource.length - HISTORY_PER_SOURCE))) {
      this.tasks.splice(this.tasks.indexOf(old), 1);
    }
  }
}

function view(task: MoveTask): MoveTaskView {
  return {
    ...(task.status === 'RUNNING' ? { TaskHandle: task.handle } : {}),
    Status: task.status,
    SourceArn: task.sourceArn,
    ...(task.destinationArn ? { DestinationArn: task.destinationArn } : {}),
    ...(task.rate !== undefined ? { MaxNumberOfMessagesPerSecond: task.rate } : {}),
    ApproximateNumberOfMessagesMoved: task.moved,
    ApproximateNumberOfMessagesToMove: task.toMove,
    ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
    StartedTimestamp: task.startedAt,
  };
}
