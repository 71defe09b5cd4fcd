"""A recording ``Outbound`` for storage/delivery tests: a platform that keeps what it got.

This fakes a chat platform (the far side of the outbound port), not our code.
"""

from __future__ import annotations

from core.outbound import Delivered, DeliveryJob, RetryLater


class RecordingOutbound:
    def __init__(self, platform: str = "shell", fail_times: int = 0,
                 retry_after: float | None = None) -> None:
        self.platform = platform
        self.jobs: list[DeliveryJob] = []
        self.fail_times = fail_times
        self.retry_after = retry_after
        self.attempts = 0

    async def deliver(self, job: DeliveryJob) -> Delivered:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RetryLater("platform answered 429", after=self.retry_after)
        self.jobs.append(job)
        if job.binding is not None and job.binding.thread is None:
            return Delivered(thread=f"T{job.delivery.ticket_number}-{job.binding.id}",
                             card_message=f"M{job.delivery.id}")
        return Delivered()
