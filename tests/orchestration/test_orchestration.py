"""ready_groups: every future once, grouped by what finished while the consumer was busy."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from etl.orchestration.runs import ready_groups


def test_futures_finished_before_the_first_look_come_as_one_group():
    futures = [Future() for _ in range(4)]
    for i, f in enumerate(futures):
        f.set_result(i)
    groups = list(ready_groups(futures))
    assert [[f.result() for f in g] for g in groups] == [[0, 1, 2, 3]]


def test_each_group_holds_what_finished_while_the_previous_was_handled():
    futures = [Future() for _ in range(5)]
    futures[2].set_result(2)
    seen = []
    for group in ready_groups(futures):
        seen.append(sorted(f.result() for f in group))
        if len(seen) == 1:  # while "loading" the first group, three others finish
            for i in (0, 4, 1):
                futures[i].set_result(i)
        elif len(seen) == 2:
            futures[3].set_result(3)
    assert seen == [[2], [0, 1, 4], [3]]


def test_futures_finishing_on_other_threads_are_each_yielded_once():
    futures = [Future() for _ in range(50)]
    start = threading.Barrier(6)

    def finish(part):
        start.wait()
        for f in part:
            f.set_result(id(f))

    threads = [threading.Thread(target=finish, args=(futures[i::5],)) for i in range(5)]
    for t in threads:
        t.start()
    start.wait()
    got = [f for g in ready_groups(futures) for f in g]
    for t in threads:
        t.join()
    assert len(got) == 50 and set(map(id, got)) == set(map(id, futures))


def test_a_failed_future_is_yielded_for_its_consumer_to_raise():
    ok, bad = Future(), Future()
    ok.set_result(1)
    bad.set_exception(RuntimeError("source down"))
    (group,) = list(ready_groups([ok, bad]))
    assert {f.exception() is None for f in group} == {True, False}
