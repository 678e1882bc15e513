"""The program OpenEvolve evolves: copied to solution.py of the sorting project."""


# EVOLVE-BLOCK-START
def sort_numbers(values):
    """Return the values in ascending order (insertion sort)."""
    result = list(values)
    for i in range(1, len(result)):
        item = result[i]
        j = i - 1
        while j >= 0 and result[j] > item:
            result[j + 1] = result[j]
            j -= 1
        result[j + 1] = item
    return result


# EVOLVE-BLOCK-END
