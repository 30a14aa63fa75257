# -*- coding: utf-8 -*-
"""Action plugin of label_studio_files: the files' texts cross to the node inside the task.

Each file's text (`content`, rendered on the controller like a template task's, or
`content_base64`, bytes such as a zip) goes into the private temp dir Ansible makes on the node
for this task (0700), is made 0600 there, and only its path is handed to the module, which
writes every file in one run. So no text (a secret's neither) is ever a module argument, which
Ansible would log on the node and show at -v. The temp dir is removed when the task ends,
whether it succeeded or failed.

On the local connection without become (the default inventory) the node is this machine and
this account: the plugin writes the files itself (module_utils/file_set.py's make_file_set, the
module's own work), from memory, with the module's argument spec, check mode and diff. No copy of
a text is made and no module is started (~0.3-0.5 s for each of a first deploy's five runs).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import os

import ansible.module_utils
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

# The project's module_utils, importable the way its modules import them (see controller_step.py).
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils import file_set  # noqa: E402

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the shell's tmpdir is used (Ansible's convention since 2.5)
        args = dict(self._task.args)
        entries = args.get("files") or []
        if not isinstance(entries, list):
            raise AnsibleActionFail("files must be a list")
        texts = [self._text(entry) for entry in entries]
        if self._connection.transport == "local" and not self._play_context.become:
            result.update(self._make_here(args, texts))
            return result
        made_here = self._connection._shell.tmpdir is None
        try:
            files = []
            if texts:
                directory = self._connection._shell.tmpdir or self._make_tmp_path()
                remotes = []
                for index, (entry, data) in enumerate(zip(entries, texts)):
                    remote = self._connection._shell.join_path(directory, "file-%d" % index)
                    self._transfer_data(remote, data)
                    remotes.append(remote)
                    files.append(dict(dest=entry["dest"], src=remote, mode=entry["mode"],
                                      secret=boolean(entry.get("secret", False), strict=False)))
                # The dir is private already; the copies are made private too before any use.
                chmod = self._remote_chmod(remotes, "0600")
                if chmod.get("rc", 0) != 0:
                    raise AnsibleActionFail("cannot make the files' copies private: %s" % chmod.get("stderr", ""))
            args["files"] = files
            result.update(self._execute_module(module_name="label_studio_files", module_args=args,
                                               task_vars=task_vars))
        finally:
            if made_here and self._connection._shell.tmpdir:
                self._remove_tmp_path(self._connection._shell.tmpdir, force=True)
        return result

    def _make_here(self, args, texts):
        """The module's work in this process: the node is this machine and this account."""
        checked = ArgumentSpecValidator(file_set.ARGUMENT_SPEC).validate(args)
        if checked.error_messages:
            raise AnsibleActionFail("label_studio_files: %s" % "; ".join(checked.error_messages))
        # ansible -vvv names a module's file for every module run; this is its counterpart.
        display.vvv("label_studio_files: the local connection, run in Ansible's own process",
                    host=self._play_context.remote_addr)
        try:
            return file_set.make_file_set(checked.validated_parameters, texts,
                                          bool(self._play_context.check_mode), bool(self._task.diff))
        except (file_set.FileSetError, OSError) as err:
            return dict(failed=True, msg=str(err))

    def _text(self, entry):
        """The bytes one entry of `files` wants at its dest."""
        if not isinstance(entry, dict) or not entry.get("dest") or entry.get("mode") is None:
            raise AnsibleActionFail("every item of files needs dest and mode")
        unknown = sorted(set(entry) - set(["dest", "content", "content_base64", "mode", "secret"]))
        if unknown:
            raise AnsibleActionFail("%s: unknown keys %s" % (entry["dest"], ", ".join(unknown)))
        given = [key for key in ("content", "content_base64") if entry.get(key) is not None]
        if len(given) != 1:
            raise AnsibleActionFail("%s: give exactly one of content and content_base64" % entry["dest"])
        if given == ["content"]:
            return to_bytes(entry["content"], errors="surrogate_or_strict")
        try:
            return base64.b64decode(entry["content_base64"], validate=True)
        except (binascii.Error, ValueError) as err:
            raise AnsibleActionFail("%s: content_base64 is not base64: %s" % (entry["dest"], err))
