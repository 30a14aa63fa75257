from ansible.module_utils.label_studio_task_plan import describe_plan, plan_import, validate_tasks

FIELDS = ["impression", "candidate0"]


def task(key, **extra):
    return {"study_id": key, "impression": "i", "candidate0": "c", **extra}


def test_valid_tasks_have_no_errors():
    assert validate_tasks([task(1), {"data": task(2)}], "study_id", FIELDS) == []


def test_every_problem_is_named_by_position_key_and_field():
    tasks = [task(1), {"impression": "i", "candidate0": "c"}, task(1),
             {"study_id": 7, "impression": "i"}, "not a task"]
    assert validate_tasks(tasks, "study_id", FIELDS) == [
        "task 2 has no 'study_id' (the key field)",
        "task 3 (study_id 1) repeats the key of task 1",
        "task 4 (study_id 7) lacks field 'candidate0' that the label config shows",
        "task 5 is not an object",
    ]


def test_plan_from_existing_keys():
    existing = [{"id": 10, "key": 1, "annotations": 0}, {"id": 11, "key": "2", "annotations": 0}]
    plan = plan_import([task(1), task(2), task(3)], existing, "study_id")
    assert plan.counts() == {"added": 1, "present": 2, "removed": 0}
    assert plan.add == [task(3)] and plan.changed


def test_nothing_to_do_is_not_a_change():
    plan = plan_import([task(1)], [{"id": 10, "key": 1, "annotations": 0}], "study_id")
    assert not plan.changed and plan.counts() == {"added": 0, "present": 1, "removed": 0}


def test_purge_removes_only_unannotated_strays():
    existing = [{"id": 10, "key": 1, "annotations": 0}, {"id": 11, "key": 2, "annotations": 0},
                {"id": 12, "key": 3, "annotations": 2}]
    plan = plan_import([task(1)], existing, "study_id", purge=True)
    assert [r["id"] for r in plan.remove] == [11]
    assert [r["id"] for r in plan.blocked] == [12]
    assert plan_import([task(1)], existing, "study_id").remove == []


def test_duplicates_already_in_the_project_are_reported():
    existing = [{"id": 10, "key": 1, "annotations": 0}, {"id": 11, "key": 1, "annotations": 0}]
    assert plan_import([task(1)], existing, "study_id").duplicates == ["1"]


def test_diff_names_keys_never_text():
    existing = [{"id": 10, "key": 1, "annotations": 0}, {"id": 11, "key": 99, "annotations": 0}]
    plan = plan_import([task(1)] + [task(k, impression="secret") for k in range(2, 25)], existing,
                       "study_id", purge=True)
    text = describe_plan(plan, "study_id")
    assert text == ("+ 23 task(s): study_id 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, "
                    "18, 19, 20, 21 ... (3 more)\n- 1 task(s): study_id 99\n= 1 task(s) already present\n")
    assert "secret" not in text
