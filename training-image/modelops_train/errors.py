"""The one exception type whose message is shown to the user as-is."""


class JobInputError(Exception):
    """A problem with what the job was given (environment, hyperparameters, dataset, output location).

    Retrying the same Job cannot fix it, so the entry point exits with a distinct code for it
    (see __main__.EXIT_INPUT_ERROR) that a Job podFailurePolicy can turn into an immediate failure.
    """
