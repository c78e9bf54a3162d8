"""Farm administration: what the workers and the roto queue are doing, and a plan to balance them.

``models`` holds the typed views every command prints, ``deadline_state`` reads them from the Deadline Web Service,
``local_state`` from this machine and the job folders, ``balance`` turns a view into proposed changes and ``apply``
carries out the ones the Web Service supports.
"""
